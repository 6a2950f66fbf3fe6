"""GPU figures for the grokking lab (`recipe.grokking`, nbs/07_grokking.ipynb).

1. The one-layer transformer of the 'progress measures' study (p=113, 30% train, AdamW lr 1e-3, wd 1, full batch):
   steps and wall seconds to 99% valid accuracy, median of 5 seeds; with Grokfast (alpha 0.98, lamb 2); and the
   baseline at the learning rate Grokfast's (1 + lamb) would match, same weight decay.
2. The early 'generalisation in progress' signal (`grokking_steps`, the rule `GrokkingMonitor` applies) on those
   baseline runs: how many steps before valid accuracy passes 50% it fires.
3. A sparse-parity phase diagram of 5 weight decays x 25 training-set sizes x 9 seeds = 1,125 models trained
   together (`phase_diagram`), timed.

    python benchmarks/grokking_gpu.py             # on CUDA (about 5 minutes on one H100)
    python benchmarks/grokking_gpu.py --quick     # tiny sizes, CPU, a minute or two: proves the script works
    OUT=results python benchmarks/grokking_gpu.py # also writes results/grokking.json
"""
import argparse, json, os, statistics, sys, time
import torch
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

def _placeholder_fastai():
    "On a machine with torch alone: placeholder fastai/fastcore names, so `recipe.grokking` imports. The data, models and fast loops used here need none of them; the fastai callbacks do, and are not used."
    import importlib.abc, importlib.machinery, types
    class Stub(types.ModuleType):
        __path__, __all__ = [], []
        def __getattr__(self, name):
            if name.startswith('__'): raise AttributeError(name)
            return type(name, (), {})
    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name.split('.')[0] in ('fastai', 'fastcore'): return importlib.machinery.ModuleSpec(name, self, is_package=True)
        def create_module(self, spec): return Stub(spec.name)
        def exec_module(self, module): pass
    sys.meta_path.insert(0, Finder())

try: import fastai.learner  # noqa: F401
except ImportError: _placeholder_fastai()
from recipe.grokking import (modular_arithmetic_data, OneLayerTransformer, train_grokking, grokking_steps,
                             phase_diagram, PHASES)

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def transformer_runs(name, seeds, p, frac, max_steps, device, lr=1e-3, wd=1., grokfast=None, target=0.99, size=None):
    "Train the transformer once per seed until valid accuracy reaches `target`"
    runs = []
    for s in seeds:
        torch.manual_seed(s)
        train, valid = modular_arithmetic_data(p, '+', frac, seed=s)
        h = train_grokking(OneLayerTransformer(p, **(size or {})), train, valid, steps=max_steps, lr=lr, wd=wd, grokfast=grokfast,
                           every=10, stop_at=target, check_every=100, device=device)
        st = grokking_steps(h, gen_thresh=target)
        runs.append(dict(seed=s, steps=st['generalise'], seconds=round(h['seconds'], 2), steps_run=h['steps_run'],
                         setup_seconds=round(h['setup_seconds'], 2), memorise=st['memorise'], half=st['half'],
                         signal=st['signal'], lead=st['lead']))
        print(f"  {name} seed {s}: {st['generalise']} steps to {target:.0%}, {h['seconds']:.1f}s "
              f"(+{h['setup_seconds']:.1f}s setup); memorised {st['memorise']}, signal {st['signal']}, 50% at {st['half']}", flush=True)
    return dict(name=name, lr=lr, wd=wd, grokfast=grokfast, runs=runs, reached=sum(r['steps'] is not None for r in runs),
                median_steps=med([r['steps'] for r in runs]), median_seconds=med([r['seconds'] for r in runs if r['steps']]))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='tiny sizes that run on a CPU in a minute or two')
    ap.add_argument('--device', default=None, help='default: cuda when available')
    ap.add_argument('--seeds', type=int, default=5)
    a = ap.parse_args()
    dev = a.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if a.quick: torch.set_num_threads(1)  # tiny models: one thread beats contending for a shared machine's cores
    if dev == 'cuda': torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # fp32 as on CPU
    if a.quick: p, frac, max_steps, seeds, size = 23, 0.5, 300, list(range(2)), dict(d_model=32, d_mlp=64)
    else: p, frac, max_steps, seeds, size = 113, 0.3, 40_000, list(range(a.seeds)), None  # the study's sizes
    t_all = time.perf_counter()
    print(f"transformer p={p}, {frac:.0%} train, full batch, on {dev}", flush=True)
    tf = [transformer_runs('baseline', seeds, p, frac, max_steps, dev, size=size),
          transformer_runs('grokfast', seeds, p, frac, max_steps, dev, grokfast=(0.98, 2.0), size=size),
          transformer_runs('baseline lr x3', seeds, p, frac, max_steps, dev, lr=3e-3, size=size)]
    leads = [r['lead'] for r in tf[0]['runs']]
    early = dict(leads=leads, median_lead=med(leads), seeds_ge_1000=sum(l is not None and l >= 1000 for l in leads), n=len(leads))
    print("sparse-parity phase diagram", flush=True)
    if a.quick: wds, sizes, n_seeds, steps = (0., 1.), (100, 400), 2, 200
    else: wds, sizes, n_seeds, steps = (0., 0.3, 1., 3., 10.), tuple(range(100, 1300, 50)) + (1300,), 9, 3000
    pd_ = phase_diagram('parity', wds, sizes, seeds=n_seeds, steps=steps, lr=1e-2, device=dev)
    if dev == 'cuda': torch.cuda.synchronize()
    counts = pd_.counts().sum((0, 1)).tolist()
    phase = dict(models=int(pd_.phases.size), seconds=round(pd_.seconds, 1), steps=steps, weight_decays=list(wds),
                 train_sizes=list(sizes), seeds=n_seeds, phase_counts=dict(zip(PHASES, counts)),
                 majority=pd_.majority().tolist())
    total = time.perf_counter() - t_all
    print(f"\n{'run':<16}{'reached':>8}{'median steps':>14}{'median s':>10}")
    for r in tf: print(f"{r['name']:<16}{r['reached']:>5}/{len(seeds)}{str(r['median_steps']):>14}{str(r['median_seconds']):>10}")
    print(f"early signal: fires a median {early['median_lead']} steps before valid acc passes 50%; "
          f">= 1000 steps in {early['seeds_ge_1000']}/{early['n']} seeds")
    print(f"phase diagram: {phase['models']} models x {steps} steps in {phase['seconds']}s; phases {phase['phase_counts']}")
    print(f"total {total:.0f}s on {torch.cuda.get_device_name() if dev == 'cuda' else dev}")
    res = dict(device=torch.cuda.get_device_name() if dev == 'cuda' else dev, quick=a.quick, p=p, train_frac=frac,
               transformer=tf, early_signal=early, phase_diagram=phase, total_seconds=round(total, 1), torch=torch.__version__)
    if os.environ.get('OUT'):
        os.makedirs(os.environ['OUT'], exist_ok=True)
        path = os.path.join(os.environ['OUT'], 'grokking.json')
        tmp = path + '.tmp'
        with open(tmp, 'w') as f: json.dump(res, f, indent=1)
        os.replace(tmp, path)
        print('wrote', path)

if __name__ == '__main__': main()
