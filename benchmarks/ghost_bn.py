"""Ghost batch norm: time of `GhostBatchNorm2d` (fused, contiguous or strided chunks) vs `nn.BatchNorm2d` vs a Python loop of BatchNorm over chunks.

Forward + backward in training mode on one batch, several repeats, median; ratios are taken within this one run.
Prints a table and, when the environment variable OUT is set, writes `$OUT/ghost_bn.json`.

    python benchmarks/ghost_bn.py                      # CUDA when available, (512, 64, 32, 32), virtual_bs 32
    python benchmarks/ghost_bn.py --device cpu --bs 128 --hw 16
"""
import argparse, json, os, platform, statistics, time
import torch
from torch import nn
from recipe.regularize import GhostBatchNorm2d

class LoopGhostBN(nn.BatchNorm2d):
    "The naive ghost batch norm: BatchNorm on each chunk of `virtual_bs` items in turn, in a Python loop"
    def __init__(self, c, virtual_bs): super().__init__(c); self.virtual_bs = virtual_bs
    def forward(self, x):
        if not self.training: return super().forward(x)
        return torch.cat([super(LoopGhostBN, self).forward(c) for c in x.split(self.virtual_bs)])

def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def time_fwd_bwd(m, x, g, repeats, warmup):
    "Median seconds of one forward + backward of `m` on `x`"
    ts = []
    for i in range(warmup + repeats):
        x.grad = None; m.zero_grad(set_to_none=True)
        sync(x.device); t0 = time.perf_counter()
        m(x).backward(g)
        sync(x.device); t = time.perf_counter() - t0
        if i >= warmup: ts.append(t)
    return statistics.median(ts), ts

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--bs', type=int, default=512); p.add_argument('--c', type=int, default=64)
    p.add_argument('--hw', type=int, default=32); p.add_argument('--vbs', type=int, default=32)
    p.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16', 'float16'])
    p.add_argument('--repeats', type=int, default=20); p.add_argument('--warmup', type=int, default=5)
    a = p.parse_args()
    dev, dt = torch.device(a.device), getattr(torch, a.dtype)
    torch.manual_seed(0)
    x = torch.randn(a.bs, a.c, a.hw, a.hw, device=dev, dtype=dt, requires_grad=True)
    g = torch.randn_like(x)
    mods = {'nn.BatchNorm2d (one batch)': nn.BatchNorm2d(a.c),
            'GhostBatchNorm2d (fused)': GhostBatchNorm2d(a.c, virtual_bs=a.vbs),
            'GhostBatchNorm2d strided': GhostBatchNorm2d(a.c, virtual_bs=a.vbs, strided=True),
            'Python loop over chunks': LoopGhostBN(a.c, a.vbs)}
    mods = {k: m.to(dev).train() for k, m in mods.items()}
    # the fused and the loop versions compute the same function: check before timing
    with torch.no_grad():
        xc = x.detach().float()
        err = (mods['GhostBatchNorm2d (fused)'].float()(xc) - mods['Python loop over chunks'].float()(xc)).abs().max().item()
    mods = {k: m.to(dt) if dt != torch.float32 else m for k, m in mods.items()}
    res = {}
    for k, m in mods.items():
        med, ts = time_fwd_bwd(m, x, g, a.repeats, a.warmup)
        res[k] = dict(median_ms=med * 1e3, times_ms=[t * 1e3 for t in ts])
    base = res['nn.BatchNorm2d (one batch)']['median_ms']
    for r in res.values(): r['ratio_vs_batchnorm'] = r['median_ms'] / base
    for k in ('GhostBatchNorm2d (fused)', 'GhostBatchNorm2d strided'): res[k]['speedup_vs_loop'] = res['Python loop over chunks']['median_ms'] / res[k]['median_ms']
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or platform.machine()
    print(f"forward+backward, x={tuple(x.shape)} {a.dtype}, virtual_bs={a.vbs} ({-(-a.bs // a.vbs)} chunks), {dev.type} ({name}), "
          f"median of {a.repeats}; max |fused - loop| = {err:.2e}")
    print(f"{'method':30s} {'ms':>9s} {'x BatchNorm':>12s}")
    for k, r in res.items(): print(f"{k:30s} {r['median_ms']:9.3f} {r['ratio_vs_batchnorm']:12.2f}")
    print(f"vs the loop: fused {res['GhostBatchNorm2d (fused)']['speedup_vs_loop']:.2f}x, strided {res['GhostBatchNorm2d strided']['speedup_vs_loop']:.2f}x as fast")
    if os.environ.get('OUT'):
        out = dict(benchmark='ghost_bn', shape=list(x.shape), dtype=a.dtype, virtual_bs=a.vbs, device=dev.type, device_name=name,
                   torch=torch.__version__, repeats=a.repeats, warmup=a.warmup, max_abs_diff_fused_vs_loop=err, results=res)
        with open(os.path.join(os.environ['OUT'], 'ghost_bn.json'), 'w') as f: json.dump(out, f, indent=2)

if __name__ == '__main__': main()
