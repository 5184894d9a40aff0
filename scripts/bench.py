#!/usr/bin/env python3
"""Benchmark: `sx exec -- true` with N secrets from a local moto server.

Compares, for N = 1, 10, 100 Secrets Manager secrets:
  - sx                       (batched BatchGetSecretValue, concurrent)
  - sx, serial               (batch = false, concurrency = 1: one GetSecretValue at a time)
  - aws CLI, one per secret  (what a shell script would do: `aws secretsmanager
                              get-secret-value` once per secret, then exec the job)
and reports the median wall time over several runs and the peak resident memory of the
largest process. Run by scripts/bench, which installs the peers and builds sx in release.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, target, body):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00",
        },
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def run_once(argv, env):
    """Runs argv; returns (seconds, peak RSS in KiB of the largest process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {argv}")
    # For a shell loop the children's peak counts too: ru_maxrss covers waited-for descendants.
    return took, usage.ru_maxrss


def measure(argv, env, runs):
    times, rss = [], []
    run_once(argv, env)  # warm the page cache and moto
    for _ in range(runs):
        t, m = run_once(argv, env)
        times.append(t)
        rss.append(m)
    return statistics.median(times), max(rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sx", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--aws", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1,10,100")
    args = ap.parse_args()

    port = free_port()
    moto = subprocess.Popen(
        [args.moto, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        sizes = [int(n) for n in args.sizes.split(",")]
        for i in range(max(sizes)):
            call(port, "secretsmanager.CreateSecret", {"Name": f"bench/s{i}", "SecretString": f"value-{i:04d}"})

        work = tempfile.mkdtemp(prefix="sx-bench-")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": work,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        rows = []
        for n in sizes:
            entries = "".join(f'S{i} = "aws-sm://bench/s{i}"\n' for i in range(n))
            fast = os.path.join(work, f"fast-{n}.toml")
            serial = os.path.join(work, f"serial-{n}.toml")
            with open(fast, "w") as f:
                f.write("[env]\n" + entries)
            with open(serial, "w") as f:
                f.write("[providers.aws-sm]\nbatch = false\nconcurrency = 1\n\n[env]\n" + entries)
            script = os.path.join(work, f"cli-{n}.sh")
            with open(script, "w") as f:
                f.write("#!/bin/sh\nset -e\n")
                for i in range(n):
                    f.write(
                        f'S{i}=$("{args.aws}" secretsmanager get-secret-value --secret-id bench/s{i} '
                        f"--query SecretString --output text)\nexport S{i}\n"
                    )
                f.write("exec true\n")
            os.chmod(script, 0o755)
            for name, argv in [
                ("sx", [args.sx, "-f", fast, "exec", "--", "true"]),
                ("sx, serial (batch = false, concurrency = 1)", [args.sx, "-f", serial, "exec", "--", "true"]),
                ("aws CLI, one process per secret", [script]),
            ]:
                runs = args.runs if not (name.startswith("aws") and n >= 100) else max(1, args.runs // 2)
                t, rss = measure(argv, env, runs)
                rows.append((n, name, t, rss))
                print(f"N={n:<4} {name:<45} {t * 1000:9.1f} ms  {rss / 1024:7.1f} MiB", flush=True)
        shutil.rmtree(work, ignore_errors=True)

        print()
        print("| secrets | command | median wall time | peak RSS |")
        print("|---:|---|---:|---:|")
        for n, name, t, rss in rows:
            print(f"| {n} | {name} | {t * 1000:.0f} ms | {rss / 1024:.1f} MiB |")
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    main()
