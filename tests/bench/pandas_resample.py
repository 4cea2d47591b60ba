#!/usr/bin/python3
"""The peer of bench_build.sh: pandas reads samples.csv with a parsed timestamp
index, resamples it to 1 s (mean) and writes the result.  Usage: DIR"""
import sys
import pandas as pd

d = sys.argv[1]
s = pd.read_csv(d + "/samples.csv", parse_dates=["timestamp"], index_col="timestamp")
s.drop(columns=["mono_ns"]).resample("1s").mean().to_csv(d + "/pandas_matrix.csv")
