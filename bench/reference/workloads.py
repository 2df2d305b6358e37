# The bench workloads in PyTorch (same shapes as bench/workloads.ts); one-shot CLI or a line server for alternation.
"""Usage:
  /usr/bin/python3 bench/reference/workloads.py W1 --threads 1 --reps 5     # prints {"id", "ms": [per-rep ms/iter], ...}
  /usr/bin/python3 bench/reference/workloads.py --serve --threads 1         # reads {"id", "iters"} lines, answers {"id", "ms"}
  /usr/bin/python3 bench/reference/workloads.py --memory W2 --iters 500     # peak RSS (KB) after imports and after the run
Ids: W1..W6 as in bench/workloads.ts, GEMM (sgemm 256x784x256 via torch.mm).
Threads are fixed before torch loads (OMP/OpenBLAS read their env at start) and again through the APIs.
"""
import argparse
import ctypes
import json
import os
import resource
import sys
import time


def parse_threads(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# Must happen before `import torch`: OpenMP and OpenBLAS size their pools from the environment at load time.
_threads = parse_threads(sys.argv[1:])
os.environ["OMP_NUM_THREADS"] = _threads
os.environ["OPENBLAS_NUM_THREADS"] = _threads
os.environ["MKL_NUM_THREADS"] = _threads

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def openblas_info(threads):
    """Pins OpenBLAS's threads (torch.set_num_threads does not reach it) and names its kernel core."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")  # the instance torch already loaded through libblas.so.3
        lib.openblas_set_num_threads(int(threads))
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return {"openblas_core": lib.openblas_get_corename().decode(), "openblas_threads": lib.openblas_get_num_threads()}
    except (OSError, AttributeError):
        return {"openblas_core": None}


def mlp(widths, act):
    """Linear -> BatchNorm1d -> activation for each hidden layer, then a Linear head (PyTorch default init)."""
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), act()]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 10),
    )


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, + identity or conv1x1(stride)-BN, then ReLU."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet8(widths=(16, 32, 64), classes=10):
    """bnlab's resnet({depth: 8, norm: 'bn'}): stem conv-BN-ReLU, one BasicBlock per stage, global average pool, fc."""
    blocks = [BasicBlock(widths[0], widths[0])] + [BasicBlock(a, b, 2) for a, b in zip(widths[:-1], widths[1:])]
    return nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True),
                         *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], classes))


def train_step_fn(model, x, y, lr):
    """One SGD step as in the bnlab workload: zero grads, forward, cross-entropy, backward, step."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)  # as bnlab: gradients are freed, not zero-filled
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def build(wid):
    """Returns a zero-argument callable doing one iteration of workload `wid`."""
    g = torch.Generator().manual_seed(0)
    if wid == "W1":
        m = mlp([784, 100, 100, 100, 10], nn.Sigmoid)
        return train_step_fn(m, torch.rand(60, 784, generator=g), torch.randint(0, 10, (60,), generator=g), 0.5)
    if wid == "W2":
        m = mlp([784, 256, 256, 256, 10], nn.ReLU)
        return train_step_fn(m, torch.rand(128, 784, generator=g), torch.randint(0, 10, (128,), generator=g), 0.1)
    if wid == "W3":
        return train_step_fn(cnn(), torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g), 0.05)
    if wid == "W4":
        bn = nn.BatchNorm2d(64).train()
        x = torch.randn(64, 64, 28, 28, generator=g).requires_grad_()
        dy = torch.randn(64, 64, 28, 28, generator=g)

        def step():
            x.grad = None
            bn.weight.grad = None
            bn.bias.grad = None
            bn(x).backward(dy)

        return step
    if wid == "W5":
        m = mlp([784, 256, 256, 256, 10], nn.ReLU).eval()
        x = torch.rand(1024, 784, generator=g)

        def step():
            with torch.no_grad():
                m(x)

        return step
    if wid == "W6":
        return train_step_fn(resnet8(), torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g), 0.05)
    if wid == "GEMM":
        a = torch.randn(256, 784, generator=g)
        b = torch.randn(784, 256, generator=g)
        c = torch.empty(256, 256)
        return lambda: torch.mm(a, b, out=c)
    raise SystemExit(f"unknown workload {wid}")


def time_iters(step, iters):
    """Milliseconds per iteration over `iters` back-to-back iterations."""
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    return (time.perf_counter() - t0) * 1e3 / iters


def serve(threads):
    """Line protocol for the runner: one JSON request per line, one JSON answer per line; models are cached."""
    cache = {}
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), **openblas_info(threads)}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        wid = req["id"]
        if wid not in cache:
            cache[wid] = build(wid)
        ms = time_iters(cache[wid], int(req.get("iters", 1)))
        print(json.dumps({"id": wid, "ms": ms}), flush=True)


def peak_kb():
    """This process image's peak RSS in KB: VmHWM (Linux), else ru_maxrss, which Linux carries across fork and exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory(wid, iters, max_ms, threads):
    """Peak resident memory of `iters` iterations (stopping early past max_ms once 20 have run) in this fresh process.

    The baseline is the peak after `import torch` and the thread setup, before the model and data are built;
    peaks are VmHWM in KB (Linux), as bench/peak.ts reads them.
    """
    info = openblas_info(threads)
    baseline = peak_kb()
    with open("/proc/self/statm") as f:
        baseline_rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    step = build(wid)
    t0 = time.perf_counter()
    n = 0
    mid = None  # peak halfway (by iterations or by the time cap): a final peak well above it means memory still grows
    while n < iters and (n < 20 or (time.perf_counter() - t0) * 1e3 < max_ms):
        step()
        n += 1
        if mid is None and n >= 10 and (n >= iters / 2 or (time.perf_counter() - t0) * 1e3 >= max_ms / 2):
            mid = (peak_kb(), n)
    ms = (time.perf_counter() - t0) * 1e3
    print(json.dumps({"id": wid, "side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), **info,
                      "baseline_kb": baseline, "baseline_rss_kb": baseline_rss,
                      "peak_kb": peak_kb(), "iters": n, "ms": ms,
                      "mid_kb": mid[0] if mid else None, "mid_iters": mid[1] if mid else None}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("id", nargs="?", help="W1..W6 or GEMM")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=0, help="iterations per rep (default: about 200 ms worth)")
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--memory", metavar="ID", help="measure peak resident memory of workload ID instead of time")
    ap.add_argument("--max-ms", type=float, default=3000, help="with --memory: stop after this long once 20 iterations ran")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        return serve(args.threads)
    if args.memory:
        return memory(args.memory, args.iters or 500, args.max_ms, args.threads)
    if not args.id:
        ap.error("give a workload id or --serve")
    info = openblas_info(args.threads)
    step = build(args.id)
    for _ in range(3):  # warm-up: allocator, OpenBLAS buffers, oneDNN primitive cache
        step()
    iters = args.iters or max(1, int(200 / max(time_iters(step, 3), 1e-3)))
    ms = [time_iters(step, iters) for _ in range(args.reps)]
    print(json.dumps({"id": args.id, "threads": args.threads, "iters": iters, "ms": ms,
                      "median_ms": sorted(ms)[len(ms) // 2], "torch": torch.__version__, **info}))


if __name__ == "__main__":
    main()
