#!/usr/bin/env python3
"""The Python side of bench_executor.c: submit 100,000 no-op tasks to a
concurrent.futures.ThreadPoolExecutor(2) from one thread, wait for all
of them, and print tasks/s for each of 5 runs and their median.

    bench_executor.py [TASKS [WORKERS [RUNS]]]
"""
import concurrent.futures
import statistics
import sys
import time


def nothing():
    return None


def main():
    ntasks = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    nworkers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    nruns = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    rates = []
    with concurrent.futures.ThreadPoolExecutor(nworkers) as ex:
        for run in range(nruns):
            t0 = time.monotonic()
            fs = [ex.submit(nothing) for _ in range(ntasks)]
            concurrent.futures.wait(fs)
            t1 = time.monotonic()
            rates.append(ntasks / (t1 - t0))
            print("run %d: %.0f tasks/s" % (run + 1, rates[-1]))
    print("Python %s ThreadPoolExecutor, %d no-op tasks, %d workers: "
          "%.0f tasks/s (median of %d)"
          % (sys.version.split()[0], ntasks, nworkers,
             statistics.median(rates), nruns))


if __name__ == "__main__":
    main()
