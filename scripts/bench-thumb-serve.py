#!/usr/bin/env python3
"""Thumbnail serving: `shoebox serve` (/photos/{id}/thumb, signed in) vs nginx serving the same
JPEG file from derived/, same machine, one run, `wrk -c 32 -t 2 -d 10s`.

    scripts/bench-thumb-serve.py [--data DIR] [--shoebox PATH] [--asset ID]

DIR is a library with thumbnails (scripts/bench-serve.py leaves one in
/work/bench-work/serve/data-100000). Needs nginx and wrk (Debian packages).
"""
import argparse, glob, os, re, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util
spec = importlib.util.spec_from_file_location("bench_serve", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-serve.py"))
bs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bs)


def rate(url, cookie=None, seconds=10):
    cmd = ["wrk", "-c", "32", "-t", "2", "-d", f"{seconds}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: sb_session={cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, int(bad.group(1)) if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/bench-work/serve/data-100000")
    ap.add_argument("--shoebox", default=os.path.join(bs.TOP, "target/x86_64-unknown-linux-gnu/release/shoebox"))
    ap.add_argument("--asset", type=int, default=12345)
    a = ap.parse_args()
    port = bs.free_port()
    p = bs.serve(a.shoebox, a.data, port)
    bs.wait_port(port)
    cookie = bs.login(port)
    # Let the startup thumbnail check walk the library first (it finds nothing to make, but
    # it would share the cores with the measurement).
    time.sleep(8)
    url = f"http://127.0.0.1:{port}/photos/{a.asset}/thumb"
    res = urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": f"sb_session={cookie}"}))
    body, etag = res.read(), res.headers["ETag"].strip('"').split("-")[0]
    path = glob.glob(os.path.join(a.data, "derived", etag[:2], f"{etag}*.grid.jpg"))[0]
    assert open(path, "rb").read() == body, "nginx and shoebox must serve the same bytes"
    with tempfile.TemporaryDirectory() as tmp:
        nport = bs.free_port()
        conf = os.path.join(tmp, "nginx.conf")
        open(conf, "w").write(f"""worker_processes 2; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; types {{ image/jpeg jpg; }}
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{nport}; root {os.path.join(a.data, 'derived')}; }} }}
""")
        n = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bs.wait_port(nport)
        rel = os.path.relpath(path, os.path.join(a.data, "derived"))
        sb = rate(url, cookie)
        ng = rate(f"http://127.0.0.1:{nport}/{rel}")
        n.terminate(); n.wait()
    p.terminate(); p.wait()
    print(f"thumbnail: {len(body)} bytes; {os.cpu_count()} cores; wrk -c 32 -t 2 -d 10s")
    print("| server | req/s | p99 | errors |\n|---|---:|---:|---:|")
    print(f"| shoebox /photos/{{id}}/thumb (session checked) | {sb[0]:.0f} | {sb[1]} | {sb[2]} |")
    print(f"| nginx, same file | {ng[0]:.0f} | {ng[1]} | {ng[2]} |")
    print(f"shoebox / nginx: {sb[0] / ng[0]:.2f}x")


if __name__ == "__main__":
    main()
