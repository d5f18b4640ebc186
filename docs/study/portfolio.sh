#!/usr/bin/env bash
# Flat MLP vs per-asset policy on the djia30 portfolio (24 cached members), final protocol of the
# issue-11 study: train <= 2013, validate 2014-2015, test 2016-2017, 10 bps per side, 3 seeds, 100k steps.
set -u
T=tradea3c
CACHE=$(realpath "${CACHE:-cache/djia}")   # the fetch --from-csv import of ../shared/data/djia30
COMMON="--strategy dow30 --data-dir $CACHE --train-end 2013-12-31 --val-end 2015-12-31 --steps 100000 --quiet --set portfolio.costs.commission_bps=10 --set portfolio.costs.half_spread_bps=0 --set portfolio.costs.slippage_bps=0"
mkdir -p ${OUT:-studies/portfolio} && cd ${OUT:-studies/portfolio}
for kind in mlp per_asset; do
  for seed in 0 1 2; do
    out=$kind-s$seed
    [ -f $out/best.pt ] && continue
    $T train $COMMON --seed $seed --set a3c.model.kind=$kind --out $out > $out.log 2>&1
  done
  $T backtest $kind-s0 $kind-s1 $kind-s2 --trials 21 --costs 0,10,25 --json $kind.json --html $kind.html > $kind-backtest.log 2>&1
done
echo done > done.txt
