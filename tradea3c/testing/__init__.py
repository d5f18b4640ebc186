"""Test and benchmark tooling, outside the engine: Gymnasium env factories and evaluators for the
engine's CartPole checks (``gym_envs.py``), and a real multi-node Ray cluster on this machine
(``ray_cluster.py``)."""
