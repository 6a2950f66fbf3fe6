"""Time `Learner.preflight` (recipe.baseline) on the digits MLP on the CPU and on a ResNet-18 with 64x64 inputs.

The ResNet-18 (torchvision's `resnet18(weights=None, num_classes=10)`) trains on synthetic images: ten smooth
class patterns plus noise, so that a few steps are enough to learn something. It runs on CUDA when available.
Each model is timed `--repeats` times after one untimed warm-up run (CUDA context, cuDNN autotuning); the
table shows the median, the cold first run, and the median seconds of each check.

    python benchmarks/preflight.py                      # digits on the CPU, ResNet-18 on CUDA when available
    python benchmarks/preflight.py --device cpu         # everything on the CPU (the ResNet is slow there)
    python benchmarks/preflight.py --models digits      # only the digits MLP

Targets (the issue): digits under 15 s on 2 CPU cores, ResNet-18 64x64 under 20 s on one GPU.
Writes `$OUT/preflight.json` when the environment variable OUT is set.
"""
import argparse, json, os, platform, statistics, sys, time, warnings
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
import torch.nn.functional as F

def synthetic_images(n=2048, size=64, n_classes=10, bs=64, device='cpu', seed=0):
    "fastai `DataLoaders` of 3x`size`x`size` images: a smooth pattern per class plus as much noise"
    from torch.utils.data import TensorDataset
    from fastai.data.core import DataLoaders
    g = torch.Generator().manual_seed(seed)
    protos = F.interpolate(torch.randn(n_classes, 3, 8, 8, generator=g), size=size, mode='bilinear', align_corners=False)
    protos = protos / protos.std()
    y = torch.randint(0, n_classes, (n,), generator=g)
    x = protos[y] + torch.randn(n, 3, size, size, generator=g)
    x = (x - x.mean()) / x.std()
    nv = n // 5
    return DataLoaders.from_dsets(TensorDataset(x[nv:], y[nv:]), TensorDataset(x[:nv], y[:nv]), bs=bs, device=device, num_workers=0)

def digits(device):
    from recipe.core import digits_learner, digits_dls
    return digits_learner(digits_dls(device=device))

def resnet18(device, size=64):
    from torchvision.models import resnet18 as rn18
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import accuracy
    torch.manual_seed(0)
    return Learner(synthetic_images(size=size, device=device), rn18(weights=None, num_classes=10),
                   loss_func=CrossEntropyLossFlat(), metrics=accuracy)

def sync(device):
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()

def time_preflight(make, device, repeats):
    "Seconds per `preflight` (one warm-up, then `repeats` timed runs) and the last report"
    import recipe.baseline  # adds Learner.preflight
    learn = make(device)
    times, per_check, rep = [], {}, None
    for i in range(repeats + 1):
        sync(device); t0 = time.perf_counter()
        rep = learn.preflight(verbose=False)
        sync(device); dt = time.perf_counter() - t0
        if i == 0: cold = dt; continue
        times.append(dt)
        for f in rep: per_check.setdefault(f.name, []).append(f.details.get('seconds', float('nan')))
    n_params = sum(p.numel() for p in learn.model.parameters())
    return dict(median_s=statistics.median(times), cold_s=cold, times_s=times, n_params=n_params,
                per_check_s={k: statistics.median(v) for k, v in per_check.items()},
                counts=rep.counts(), failed=[str(f) for f in rep.failed], warned=[str(f) for f in rep.warnings])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default=None, help="device for the ResNet-18 (default: cuda when available, else cpu)")
    p.add_argument('--models', nargs='+', default=['digits', 'resnet18'], choices=['digits', 'resnet18'])
    p.add_argument('--repeats', type=int, default=3, help='timed runs per model, after one warm-up')
    p.add_argument('--size', type=int, default=64, help="the ResNet-18's input size")
    a = p.parse_args(argv)
    gpu = a.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    runs = dict(digits=(digits, 'cpu'), resnet18=(lambda d: resnet18(d, a.size), gpu))
    res = {}
    for name in a.models:
        make, dev = runs[name]
        r = time_preflight(make, dev, a.repeats)
        r['device'] = torch.cuda.get_device_name(0) if torch.device(dev).type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'
        res[name] = r
        print(f"{name}: {r['median_s']:.2f} s (cold {r['cold_s']:.2f} s) {r['counts']}", flush=True)
        for line in r['failed'] + r['warned']: print('   ', line)
    checks = list(next(iter(res.values()))['per_check_s'])
    print(f"\n{'model':10s} {'device':28s} {'params':>10s} {'median s':>9s} {'cold s':>7s}  " + ' '.join(f"{c[:12]:>12s}" for c in checks))
    for name, r in res.items():
        print(f"{name:10s} {r['device'][:28]:28s} {r['n_params']:>10,d} {r['median_s']:>9.2f} {r['cold_s']:>7.2f}  "
              + ' '.join(f"{r['per_check_s'].get(c, float('nan')):>12.2f}" for c in checks))
    out = dict(benchmark='preflight', torch=torch.__version__, python=platform.python_version(), cpus=os.cpu_count(),
               repeats=a.repeats, size=a.size, results=res)
    if os.environ.get('OUT'):
        os.makedirs(os.environ['OUT'], exist_ok=True)
        with open(os.path.join(os.environ['OUT'], 'preflight.json'), 'w') as f: json.dump(out, f, indent=2)
    return out

if __name__ == '__main__': main()
