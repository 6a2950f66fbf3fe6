"""Host cost of each piece of `TrainingHealth`'s per-step work on a GPU: where do the milliseconds go?

Builds the tensors a ResNet-18 step hands the callback (the parameters and gradients, and the 17 ReLU outputs of a
3xSxS batch, channels-last as in `training_health.py`), then times each group of operations in a loop of `--iters`
iterations with no synchronisation inside, so the figure is the host time to queue the work (what a launch-bound
step pays), with the GPU time of the same loop beside it.

    python benchmarks/training_health_ops.py --size 64 --bs 256
"""
import argparse, json, os, statistics, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
from torch import nn

def relu_outputs(model, x):
    outs = []
    hs = [m.register_forward_hook(lambda m, i, o: outs.append(o)) for m in model.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad(): model(x)
    for h in hs: h.remove()
    return outs

def timeit(f, iters, dev):
    f(); torch.cuda.synchronize(dev)
    res = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters): f()
        host = time.perf_counter() - t0
        torch.cuda.synchronize(dev); total = time.perf_counter() - t0
        res.append((host / iters * 1e6, total / iters * 1e6))
    return statistics.median(r[0] for r in res), statistics.median(r[1] for r in res)

def main():
    p = argparse.ArgumentParser(); p.add_argument('--size', type=int, default=64); p.add_argument('--bs', type=int, default=256)
    p.add_argument('--iters', type=int, default=200); p.add_argument('--half', action='store_true')
    a = p.parse_args()
    dev = torch.device('cuda')
    from torchvision.models import resnet18
    model = resnet18(num_classes=10).to(dev).to(memory_format=torch.channels_last)
    x = torch.randn(a.bs, 3, a.size, a.size, device=dev).to(memory_format=torch.channels_last)
    with torch.autocast('cuda', dtype=torch.float16, enabled=a.half): outs = relu_outputs(model, x)
    ps = [p for p in model.parameters()]
    for p_ in ps: p_.grad = torch.randn_like(p_)
    gs = [p_.grad for p_ in ps]
    prev = [torch.empty_like(p_) for p_ in ps]
    sub = [o[:32] for o in outs]
    row = torch.zeros(2 * len(outs), device=dev); gn = torch.zeros(len(ps), device=dev)
    U = sum(o.shape[1] for o in outs); alive = torch.zeros(U, dtype=torch.uint8, device=dev)
    f32 = torch.float32
    def norms(ts, o): return torch._foreach_norm(ts, o, dtype=f32)
    cases = {
        'slices (17 views)': lambda: [o[:32] for o in outs],
        'foreach_norm L1 of sub, dtype=f32': lambda: norms(sub, 1),
        'foreach_norm L1 of sub, no dtype': lambda: torch._foreach_norm(sub, 1),
        'foreach_norm L2 of sub': lambda: norms(sub, 2),
        'stack 34 scalars out=row': lambda: torch.stack(list(norms(sub, 1)) + list(norms(sub, 2)), out=row),
        'amax per unit x17': lambda: [o.amax(dim=(0, 2, 3)) for o in outs],
        'amax + cat + gt': lambda: torch.gt(torch.cat([o.amax(dim=(0, 2, 3)) for o in outs]), 0, out=alive),
        'foreach_norm grads (62)': lambda: norms(gs, 2),
        'foreach_norm grads + stack': lambda: torch.stack(norms(gs, 2), out=gn),
        'foreach_norm grads, no dtype': lambda: torch._foreach_norm(gs, 2),
        'foreach_copy params': lambda: torch._foreach_copy_(prev, ps),
        'foreach_sub params': lambda: torch._foreach_sub_(prev, ps),
        'one tiny add (baseline launch)': lambda: gn.add_(1),
    }
    rows = []
    for k, f in cases.items():
        h, t = timeit(f, a.iters, dev)
        rows.append(dict(op=k, host_us=h, total_us=t)); print(f"{k:38s} host {h:8.1f} us   host+gpu {t:8.1f} us", flush=True)
    if os.environ.get('OUT'):
        Path(os.environ['OUT'], os.environ.get('NAME', 'training_health_ops.json')).write_text(json.dumps(dict(device=torch.cuda.get_device_name(dev), torch=torch.__version__, size=a.size, bs=a.bs, half=a.half, rows=rows), indent=1))

if __name__ == '__main__': main()
