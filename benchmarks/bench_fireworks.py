"""Dispatch overhead: N no-op jobs through the FireWorks LaunchPad (in the contactflow store) with W
worker processes (``contactflow worker --category small``) vs the same jobflow graph with
``run_locally`` against the same store's JobStore.

The jobs are ``math.sqrt(i)`` (nothing to compute), so the times are pure dispatch cost: conversion
and atomic submission, checkout, launch bookkeeping, JobStore writes. Both sides use one embedded
server started here in a temporary ``CONTACTFLOW_HOME``; each side gets its own database.

Run: ``.venv/bin/python benchmarks/bench_fireworks.py [--n 200] [--workers 2]``. Prints jobs/s, the
overhead per job and the ratio FireWorks/run_locally; appends a JSON row to
``benchmarks/results/bench_fireworks.json``.
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_fireworks.json"
CLI = str(Path(sys.executable).parent / "contactflow")


def noop_flow(n: int):
    from jobflow import Flow, Job

    return Flow([Job(math.sqrt, function_args=(float(i),), name=f"noop-{i}") for i in range(n)], name="noop")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="no-op jobs")
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--shape", choices=("workflows", "flow"), default="workflows",
                    help="workflows: N one-job workflows (many submissions, as from many recipes); flow: one "
                         "workflow of N jobs (FireWorks locks and refreshes the whole workflow per job)")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cf-bench-fw-"))
    os.environ["CONTACTFLOW_HOME"] = str(home)
    os.environ.pop("CONTACTFLOW_MONGO_URI", None)
    from jobflow.managers.local import run_locally

    from contactflow.dispatch.fireworks import get_launchpad, submit_flow
    from contactflow.store import ContactStore, embedded, load_settings

    server = embedded.start_server()
    try:
        os.environ["CONTACTFLOW_MONGO_URI"] = server.uri
        # baseline: run_locally, same graph, JobStore in the same server
        os.environ["CONTACTFLOW_DB"] = "bench_local"
        with ContactStore(load_settings()) as store, tempfile.TemporaryDirectory() as root:
            t0 = time.perf_counter()
            run_locally(noop_flow(args.n), store=store.jobstore(), root_dir=root, ensure_success=True, log=False)
            t_local = time.perf_counter() - t0
            assert store.db["jobs"].count_documents({}) == args.n

        os.environ["CONTACTFLOW_DB"] = f"bench_fireworks_{args.shape}"
        with ContactStore(load_settings()) as store:
            lp = get_launchpad(store)
            t0 = time.perf_counter()
            if args.shape == "flow":
                res = submit_flow(noop_flow(args.n), lp, project="bench")
                assert len(res.fw_ids) == args.n and res.categories == {"small": args.n}
            else:
                from jobflow import Job

                for i in range(args.n):
                    submit_flow(Job(math.sqrt, function_args=(float(i),), name=f"noop-{i}"), lp, project="bench")
            t_submit = time.perf_counter() - t0
            t0 = time.perf_counter()
            procs = [subprocess.Popen([CLI, "worker", "--category", "small", "--sleep", "1",
                                       "--launch-dir", str(home / f"w{k}")], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True) for k in range(args.workers)]
            errs = [p.communicate()[1] for p in procs]
            t_workers = time.perf_counter() - t0
            if any(p.returncode for p in procs):
                sys.exit(f"a worker failed: {errs}")
            done = lp.fireworks.count_documents({"state": "COMPLETED"})
            assert done == args.n, f"{done} of {args.n} completed"
            assert store.db["jobs"].count_documents({}) == args.n
            starts = [d["time_start"] for d in lp.launches.find({}, {"time_start": 1})]
            ends = [d["time_end"] for d in lp.launches.find({}, {"time_end": 1})]
            span = (datetime.fromisoformat(max(ends)) - datetime.fromisoformat(min(starts))).total_seconds()
            per_worker = {d["_id"]: d["n"] for d in lp.launches.aggregate(
                [{"$group": {"_id": "$fworker.name", "n": {"$sum": 1}}}])}
    finally:
        embedded.stop_server()

    t_fw = t_submit + t_workers
    row = {
        "date": datetime.now(timezone.utc).isoformat(), "host": platform.node(), "cpus": os.cpu_count(),
        "n_jobs": args.n, "workers": args.workers, "shape": args.shape,
        "local_s": round(t_local, 3), "fireworks_submit_s": round(t_submit, 3),
        "fireworks_workers_wall_s": round(t_workers, 3), "fireworks_launch_span_s": round(span, 3),
        "jobs_per_s_local": round(args.n / t_local, 2),
        "jobs_per_s_fireworks": round(args.n / t_fw, 2),
        "jobs_per_s_fireworks_steady": round(args.n / span, 2),
        "overhead_ms_per_job": round(1000 * (t_fw - t_local) / args.n, 2),
        "ratio_fireworks_over_local": round(t_fw / t_local, 3),
        "jobs_per_worker": sorted(per_worker.values()),
    }
    print(f"{args.n} no-op jobs ({args.shape}): run_locally {t_local:.2f} s ({row['jobs_per_s_local']} jobs/s); "
          f"FireWorks with {args.workers} workers: submit {t_submit:.2f} s + workers {t_workers:.2f} s "
          f"(launch span {span:.2f} s) = {row['jobs_per_s_fireworks']} jobs/s "
          f"({row['jobs_per_s_fireworks_steady']} jobs/s steady)")
    print(f"overhead per job: {row['overhead_ms_per_job']} ms; ratio FireWorks/run_locally = "
          f"{row['ratio_fireworks_over_local']}; jobs per worker {row['jobs_per_worker']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
