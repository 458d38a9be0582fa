#!/usr/bin/python3
"""Counts FERPlus's majority labels independently of our reader, for tests/data/test_ferplus.cpp
(FerPlusReal.MajorityLabelsGiveTheIndependentCounts).

Run with Debian's python3 and numpy:  /usr/bin/python3 tests/data/count_ferplus_majority.py ../shared/data/ferplus

The rule is FERPlus's reference code's (_process_data, mode 'majority'): votes of 1 are
removed as outliers; the row is kept when its largest column (numpy's argmax, the first)
then holds more than half of the remaining votes. Rows whose majority is contempt,
unknown or NF, names on several lines, and rows without votes are dropped, as in our reader.
"""
import collections
import csv
import sys

import numpy as np

CANONICAL = {0: 6, 1: 3, 2: 0, 3: 4, 4: 5, 5: 2, 6: 1}  # FERPlus column -> expressions.h order
DROPPED = ["contempt", "unknown", "NF"]

root = sys.argv[1]
for split in ["FER2013Train", "FER2013Valid"]:
    rows = [r for r in csv.reader(open(f"{root}/{split}/label.csv")) if r]
    names = collections.Counter(r[0] for r in rows)
    counts, dropped = [0] * 7, collections.Counter()
    for r in rows:
        if names[r[0]] > 1:
            dropped["duplicate name"] += 1
            continue
        raw = [float(x) for x in r[2:12]]
        if sum(raw) == 0:
            dropped["no votes"] += 1
            continue
        votes = [0.0 if v < 1.0 + sys.float_info.epsilon else v for v in raw]
        if max(votes) > 0.5 * sum(votes):
            column = int(np.argmax(votes))
            if column >= 7:
                dropped[DROPPED[column - 7]] += 1
            else:
                counts[CANONICAL[column]] += 1
        else:
            dropped["no majority"] += 1
    print(split, "surprise..neutral:", counts, "dropped:", dict(dropped))
