"""Cost of each piece of `TrainingHealth`'s per-step work on a GPU: where do the microseconds go?

Builds the tensors a ResNet-18 step hands the callback (the parameters and gradients, and the 17 ReLU outputs of a
3xSxS batch, channels-last as in `training_health.py` unless `--nchw`), then times each group of operations (PyTorch's, as
with `fused=False`, the plain path's `TrainingHealth(fast=False)`, and the fused Triton kernels of `TrainingHealth(fast=True)`) two ways:

- `host`: a loop of `--iters` iterations with no synchronisation inside, so the figure is the host time to queue the
  work (what a launch-bound step pays), with the host+GPU time of the same loop beside it;
- `gpu`: the same work captured once as a CUDA graph and replayed between two CUDA events, so the figure is the time
  the GPU spends on it (what a GPU-bound step pays); with CUDA graphs, which `TrainingHealth` uses, the host's part is
  one replay, whose host time is reported too.

The step itself (forward, backward and an SGD step of the same model and batch, timed the same way as `gpu`, eagerly)
is the reference the GPU figures are a fraction of.

    python benchmarks/training_health_ops.py --size 224 --half
    python benchmarks/training_health_ops.py --size 64
"""
import argparse, json, os, statistics, sys, time
from functools import partial
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np, torch
from torch import nn
from recipe.overfit import _l2, _per_unit
from recipe.fast_health import FastHealth, _norms, _unit_sums, _FusedAct, _FusedParams

def relu_outputs(model, x):
    outs = []
    hs = [m.register_forward_hook(lambda m, i, o: outs.append(o)) for m in model.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad(): model(x)
    for h in hs: h.remove()
    return outs

def host_us(f, iters, dev):
    "Host microseconds per call to queue `f` (no sync inside the loop), and host+GPU microseconds per call"
    f(); torch.cuda.synchronize(dev)
    res = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters): f()
        host = time.perf_counter() - t0
        torch.cuda.synchronize(dev); total = time.perf_counter() - t0
        res.append((host / iters * 1e6, total / iters * 1e6))
    return statistics.median(r[0] for r in res), statistics.median(r[1] for r in res)

def gpu_us(f, dev, iters=20):
    "GPU microseconds per call of `f` (captured once as a CUDA graph, replayed `iters` times between two events), and host microseconds per replay"
    f(); torch.cuda.synchronize(dev)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g): f()
    g.replay(); torch.cuda.synchronize(dev)
    res, host = [], []
    for _ in range(5):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); t0 = time.perf_counter()
        for _ in range(iters): g.replay()
        host.append((time.perf_counter() - t0) * 1e6 / iters)
        b.record(); b.synchronize(); res.append(a.elapsed_time(b) * 1e3 / iters)
    return statistics.median(res), statistics.median(host)

def step_us(model, x, y, half, dev, iters=10):
    "GPU-synchronised microseconds of one training step (forward, backward, SGD with momentum), eagerly"
    opt, lf = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9), nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler(enabled=half)
    def step():
        with torch.autocast('cuda', dtype=torch.float16, enabled=half): loss = lf(model(x), y)
        scaler.scale(loss).backward(); scaler.step(opt); scaler.update(); opt.zero_grad(set_to_none=False)
    for _ in range(3): step()
    res = []
    for _ in range(5):
        torch.cuda.synchronize(dev); t0 = time.perf_counter()
        for _ in range(iters): step()
        torch.cuda.synchronize(dev); res.append((time.perf_counter() - t0) / iters * 1e6)
    return statistics.median(res)

def main():
    p = argparse.ArgumentParser(); p.add_argument('--size', type=int, default=64); p.add_argument('--bs', type=int, default=256)
    p.add_argument('--iters', type=int, default=200); p.add_argument('--half', action='store_true')
    p.add_argument('--nchw', action='store_true', help='channels-first tensors (default: channels-last, as in training_health.py)')
    p.add_argument('--act-sample', type=int, default=32)
    a = p.parse_args()
    dev, f32 = torch.device('cuda'), torch.float32
    torch.backends.cudnn.benchmark = True
    from torchvision.models import resnet18
    fmt = torch.contiguous_format if a.nchw else torch.channels_last
    model = resnet18(num_classes=10).to(dev).to(memory_format=fmt)
    x = torch.randn(a.bs, 3, a.size, a.size, device=dev).to(memory_format=fmt)
    y = torch.randint(0, 10, (a.bs,), device=dev)
    step = step_us(model, x, y, a.half, dev)
    with torch.autocast('cuda', dtype=torch.float16, enabled=a.half): outs = relu_outputs(model, x)
    ps = [p_ for p_ in model.parameters()]
    for p_ in ps: p_.grad = torch.randn_like(p_)
    gs = [p_.grad for p_ in ps]
    n = a.act_sample
    sub = [o[:n] for o in outs]
    K, U = len(outs), sum(o.shape[1] for o in outs)
    row = torch.zeros(2 * K, device=dev)
    alive = torch.zeros(U, dtype=torch.uint8, device=dev)
    dims = (0, 2, 3)
    ones = {o.dtype: torch.ones(max(s.numel() // s.shape[1] for s in sub), dtype=o.dtype, device=dev) for o in outs}
    # the callback's own methods, on these tensors (what the graphs of a fit replay)
    th = FastHealth(act_sample=n)
    th.ps, th.updates, th._prev, th._ones, th._g_act = ps, True, [torch.empty_like(p_) for p_ in ps], {}, None
    th._nonneg, th.is_relu = [True] * K, np.ones(K, dtype=bool)
    th._ri, th._act, th._alive = torch.zeros(1, dtype=torch.long, device=dev), torch.zeros(4, 2, K, device=dev), torch.zeros(4, U, dtype=torch.uint8, device=dev)
    th._gw, th._un = torch.zeros(4, 2, len(ps), device=dev), torch.zeros(4, len(ps), device=dev)
    th._rp, th._one, th._fused = torch.zeros(1, dtype=torch.long, device=dev), torch.ones((), device=dev), True
    scale = torch.full((), 2. ** 16, device=dev)  # mixed precision's loss scale: the gradients are read before it is divided out
    def pre(plan=None, scale=None):  # the callback's own method; it moves `_ri` to the next row, put back here (one more tiny launch)
        th._param_pre(gs, plan, scale); th._ri.zero_()
    offs = [int(o) for o in np.cumsum([0] + [o.shape[1] for o in outs])[:-1]]
    fa = _FusedAct(outs, n, offs) if _FusedAct.ok(outs, n) else None
    fp = _FusedParams(ps, gs, th._prev) if _FusedParams.ok(ps, gs, th._prev) else None
    def old_act():
        l1, l2 = _norms(sub, 1), _norms(sub, 2)
        torch.stack(list(l1) + list(l2), out=row)
        torch.gt(torch.cat([o.amax(dim=dims) for o in sub]), 0, out=alive)
    cases = {
        f'act: L2 norms, one _foreach_norm ({K} outputs)': lambda: _norms(sub, 2),
        'act: L1 norms, one _foreach_norm': lambda: _norms(sub, 1),
        'act: per-unit amax (reduction)': lambda: [o.amax(dim=dims) for o in sub],
        'act: per-unit sum (reduction, float32)': lambda: [o.sum(dim=dims, dtype=f32) for o in sub],
        'act: per-unit sum (ones @ x, as TrainingHealth)': lambda: [_unit_sums(o, ones) for o in sub],
        'act: all statistics, previous (L1 + L2 + amax)': old_act,
        'act: all statistics, PyTorch operations (fused=False)': lambda: th._act_stats(outs),
        'act: all statistics, plain path (TrainingHealth(fast=False))': lambda: ([_per_unit(o).sum() for o in sub], _l2(sub)),
        f'params: gradient and weight norms + copy ({len(ps)} tensors), PyTorch operations': torch.no_grad()(pre),
        'params: the same with a loss scale (mixed precision: gradient norms in float64), PyTorch operations': torch.no_grad()(partial(pre, None, scale)),
        'params: update norms, PyTorch operations': torch.no_grad()(th._param_post),
        'params: gradient and weight norms + copy, plain path': torch.no_grad()(lambda: (_l2(gs), _l2(ps), torch._foreach_copy_(th._prev, ps))),
        'params: update norms, plain path': torch.no_grad()(lambda: _l2(torch._foreach_sub(th._prev, ps))),
        'one tiny add (a launch)': lambda: row.add_(1),
    }
    if fa: cases['act: all statistics, fused kernels (TrainingHealth default)'] = lambda: fa(outs, th._ri, th._act, th._alive)
    if fp:
        cases['params: gradient and weight norms + copy, fused kernels'] = torch.no_grad()(partial(pre, fp))
        cases['params: the same with a loss scale, fused kernels'] = torch.no_grad()(partial(pre, fp, scale))
        cases['params: update norms, fused kernels'] = torch.no_grad()(partial(th._param_post, fp))
    rows = [dict(op='training step (forward, backward, SGD), eager', gpu_us=step, host_us=None, total_us=None)]
    print(f"{'training step, eager':52s} {step:9.1f} us", flush=True)
    for k, f in cases.items():
        h, t = host_us(f, a.iters, dev)
        g, r = gpu_us(f, dev)
        rows.append(dict(op=k, host_us=h, total_us=t, gpu_us=g, gpu_pct_of_step=100 * g / step, replay_host_us=r))
        print(f"{k:52s} gpu {g:8.1f} us ({100 * g / step:5.2f}% of a step)   host {h:8.1f} us   host+gpu {t:8.1f} us   host per graph replay {r:6.1f} us", flush=True)
    if os.environ.get('OUT'):
        Path(os.environ['OUT'], os.environ.get('NAME', 'training_health_ops.json')).write_text(json.dumps(dict(
            device=torch.cuda.get_device_name(dev), torch=torch.__version__, size=a.size, bs=a.bs, half=a.half,
            layout='nchw' if a.nchw else 'channels_last', act_sample=n, rows=rows), indent=1))

if __name__ == '__main__': main()
