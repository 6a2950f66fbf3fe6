"""Cost of keeping an EMA of the weights, per optimizer step, as `recipe.squeeze.EMA` does it.

Compares, on one device, the time of a plain training step with the same step followed by:
  - `foreach`: one fused `torch._foreach_lerp_` over all tensors (what `EMA` does; no host sync),
  - `loop`: a Python loop of `lerp_` per tensor,
  - `loop+item`: the loop plus a `.item()` per step (a host sync, what callbacks must not do).
Prints a table of median milliseconds per step and the ratio to the plain step; writes
$OUT/squeeze_ema.json when OUT is set. Needs only torch.

    python benchmarks/squeeze_ema.py              # CUDA if available
    python benchmarks/squeeze_ema.py --device cpu --width 256 --steps 20
"""
import argparse, json, os, statistics, time
import torch
from torch import nn

def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def make(width, depth, dev):
    layers = [nn.Linear(width, width) for _ in range(depth)]
    model = nn.Sequential(*[m for l in layers for m in (l, nn.LayerNorm(width), nn.ReLU())], nn.Linear(width, 10)).to(dev)
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3)

def bench(kind, args, dev):
    torch.manual_seed(0)
    model, opt = make(args.width, args.depth, dev)
    params = list(model.parameters())
    avg = [p.detach().clone() for p in params]
    x, y = torch.randn(args.bs, args.width, device=dev), torch.randint(0, 10, (args.bs,), device=dev)
    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        with torch.no_grad():
            if kind == 'foreach': torch._foreach_lerp_(avg, [p.detach() for p in params], 1 - args.decay)
            elif kind.startswith('loop'):
                for a, p in zip(avg, params): a.lerp_(p.detach(), 1 - args.decay)
                if kind == 'loop+item': avg[0][0, 0].item()
    for _ in range(args.warmup): step()
    times = []
    for _ in range(args.repeats):
        sync(dev); t = time.perf_counter()
        for _ in range(args.steps): step()
        sync(dev); times.append((time.perf_counter() - t) / args.steps * 1e3)
    return statistics.median(times)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--width', type=int, default=1024); ap.add_argument('--depth', type=int, default=24)
    ap.add_argument('--bs', type=int, default=256); ap.add_argument('--decay', type=float, default=0.999)
    ap.add_argument('--steps', type=int, default=50); ap.add_argument('--repeats', type=int, default=7)
    ap.add_argument('--warmup', type=int, default=10)
    args = ap.parse_args()
    dev = torch.device(args.device)
    kinds = ['plain', 'foreach', 'loop', 'loop+item']
    ms = {k: bench(k, args, dev) for k in kinds}
    n_tensors = 3 * args.depth * 2 + 2
    print(f"EMA cost per step on {dev} ({torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'}), "
          f"{args.depth} blocks of width {args.width} ({n_tensors} tensors), median of {args.repeats}x{args.steps} steps")
    print(f"{'variant':<10} {'ms/step':>9} {'x plain':>8}")
    for k in kinds: print(f"{k:<10} {ms[k]:>9.3f} {ms[k] / ms['plain']:>8.3f}")
    if os.environ.get('OUT'):
        res = dict(device=str(dev), args=vars(args), ms_per_step=ms, ratio_to_plain={k: ms[k] / ms['plain'] for k in kinds},
                   torch=torch.__version__)
        with open(os.path.join(os.environ['OUT'], 'squeeze_ema.json'), 'w') as f: json.dump(res, f, indent=2)

if __name__ == '__main__': main()
