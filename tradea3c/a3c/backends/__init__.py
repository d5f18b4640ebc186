"""Where the workers run, behind one `Backend` interface and one
supervision loop (``base.py``): local Hogwild processes (``processes.py``), this process for
``workers=1`` and A2C (``inprocess.py``), and Ray actors beyond one machine (``ray.py``)."""
