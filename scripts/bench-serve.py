#!/usr/bin/env python3
"""Web app benchmark: start-up time, idle memory and status page latency with a large library.

    scripts/bench-serve.py [--assets 100000] [--work /work/bench-work/serve] [--shoebox PATH]

Builds (once, cached in WORK) a library of N distinct small JPEGs imported with `shoebox
import`, sets it up with `shoebox setup`, then, in one run:
  * start-up: time from spawning `shoebox serve` to the port accepting (median of 5);
  * idle RSS: VmRSS of the serving process after start, a few requests and 5 s of idleness;
  * latency: `wrk -c 32 -t 2 -d 15s --latency` on /status and /api/status with a session.
Prints a Markdown table. Needs `wrk` (Debian package) and python3 only.
"""
import argparse, os, re, shutil, socket, statistics, subprocess, sys, time, urllib.parse, urllib.request, http.cookiejar

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PASSWORD = "correct horse battery staple"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_library(shoebox, work, n):
    data = os.path.join(work, f"data-{n}")
    if os.path.exists(os.path.join(data, "ready")):
        return data
    shutil.rmtree(data, ignore_errors=True)
    src = os.path.join(work, f"photos-{n}")
    shutil.rmtree(src, ignore_errors=True)
    seed = open(os.path.join(TOP, "tests/fixtures/media/photo.jpg"), "rb").read()
    head = seed[: seed.index(b"\xff\xda")] + bytes([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0])
    for i in range(n):
        d = os.path.join(src, f"{i // 1000:03d}")
        if i % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"IMG_{i:06d}.JPG"), "wb") as f:
            f.write(head + i.to_bytes(8, "little") + b"\xff\xd9")
    t = time.time()
    subprocess.run([shoebox, "--data", data, "import", src], check=True, stdout=subprocess.DEVNULL)
    print(f"imported {n} files in {time.time() - t:.1f} s", file=sys.stderr)
    t = time.time()
    subprocess.run([shoebox, "--data", data, "thumbnails"], check=True, stdout=subprocess.DEVNULL)
    print(f"made thumbnails for {n} files in {time.time() - t:.1f} s", file=sys.stderr)
    subprocess.run([shoebox, "--data", data, "setup", "--owner", "bench"], input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(src)
    open(os.path.join(data, "ready"), "w").close()
    return data


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return True
        except OSError:
            time.sleep(0.001)
    return False


def serve(shoebox, data, port):
    return subprocess.Popen([shoebox, "--data", data, "serve", "--listen", f"127.0.0.1:{port}", "--no-mdns"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def login(port):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf": token, "name": "bench", "password": PASSWORD, "next": "/"}).encode()
    opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/login", data=body, headers={"Origin": f"http://127.0.0.1:{port}"}))
    return next(c.value for c in jar if c.name == "sb_session")


def wrk(port, path, cookie, seconds):
    out = subprocess.run(["wrk", "-c", "32", "-t", "2", "-d", f"{seconds}s", "--latency", "-H", f"Cookie: sb_session={cookie}", f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
    rps = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return lat, rps, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--work", default="/work/bench-work/serve")
    ap.add_argument("--shoebox", default=os.path.join(TOP, "target/x86_64-unknown-linux-gnu/release/shoebox"))
    ap.add_argument("--seconds", type=int, default=15)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data = make_library(a.shoebox, a.work, a.assets)
    starts = []
    for _ in range(5):
        port = free_port()
        subprocess.run(["sync"])
        t = time.perf_counter()
        p = serve(a.shoebox, data, port)
        ok = wait_port(port)
        starts.append((time.perf_counter() - t) * 1000)
        p.terminate()
        p.wait()
        assert ok, "serve never listened"
    port = free_port()
    p = serve(a.shoebox, data, port)
    wait_port(port)
    cookie = login(port)
    for path in ["/", "/status", "/api/status"]:
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": f"sb_session={cookie}"})).read()
    time.sleep(5)
    idle = rss_kib(p.pid)
    # Every generated photo carries photo.jpg's EXIF time (2021-07-14 09:15:30 -04:00), so the
    # timeline orders them by id: a cursor of (that instant, N/2) is a page N/2 photos deep.
    deep = f"/?before=1626268530.{a.assets // 2}"
    # The month scrubber's jump, the fragment infinite scroll fetches, the Albums page (its
    # 100 import folders are albums from a source).
    paths = ["/status", "/api/status", "/", deep, "/?month=2021-07", deep + "&fragment=1", "/albums"]
    results = {path: wrk(port, path, cookie, a.seconds) for path in paths}
    after = rss_kib(p.pid)
    t = time.perf_counter()
    p.terminate()
    code = p.wait()
    stop_ms = (time.perf_counter() - t) * 1000
    print(f"| figure ({a.assets} assets, {os.cpu_count()} cores) | value |")
    print("|---|---:|")
    print(f"| start to listening, median of 5 | {statistics.median(starts):.0f} ms (runs: {', '.join(f'{s:.0f}' for s in starts)}) |")
    print(f"| RSS idle after start and 3 requests | {idle / 1024:.1f} MiB |")
    for path, (lat, rps, bad) in results.items():
        print(f"| `{path}` under wrk -c 32 -t 2, {a.seconds} s: p50 / p90 / p99 | {lat.get('50')} / {lat.get('90')} / {lat.get('99')} ({rps} req/s, {bad} non-2xx) |")
    print(f"| RSS after the load | {after / 1024:.1f} MiB |")
    print(f"| SIGTERM to exit | {stop_ms:.0f} ms (exit code {code}) |")


if __name__ == "__main__":
    main()
