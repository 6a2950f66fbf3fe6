"""GPU figures for the grokking lab (`recipe.grokking`, nbs/07_grokking.ipynb).

1. The one-layer transformer of the 'progress measures' study (p=113, 30% train, AdamW lr 1e-3, wd 1, full batch):
   steps and wall seconds to 99% valid accuracy, median of 5 seeds; with Grokfast (alpha 0.98, lamb 2); and the
   baseline at the learning rate Grokfast's (1 + lamb) would match, same weight decay.
2. The early 'generalisation in progress' signal (`grokking_steps`, the rule `GrokkingMonitor` applies) on those
   baseline runs: how many steps before valid accuracy passes 50% it fires.
3. A sparse-parity phase diagram of 5 weight decays x 25 training-set sizes x 9 seeds = 1,125 models trained
   together (`phase_diagram`), timed.
4. `--part map`: the transformer's phase map, 5 weight decays x 5 training fractions x 4 seeds = 100 one-layer
   transformers (p=113, up to 20,000 steps, each stopping at 99% valid accuracy) trained together: the step timed
   several ways against its FLOP and byte floors, the map, a few cells in fp32/TF32/bf16 side by side, the same
   models one after another (extrapolated from a sample), agreement with the single runs of part 1, and the early
   signal per phase. Writes transformer_phase_map.json and transformer_phase_map.png.
   With `--rounding`, also how far rounding alone moves the single runs at the agreement point.
5. `--part rounding`: that alone: per seed, `train_grokking` in float32, in TF32 (on CUDA), and in float32 from initial
   weights multiplied by (1 + 1e-6 x noise). Writes grokking_rounding.json.
6. `--part agreement`: the map's agreement point (wd 1, 30% train) over `--seeds` seeds, both ways: the seeds stacked
   and trained together as the map trains them (bf16, compiled, stopping at 99%) and each seed alone with
   `train_grokking` in float32. Writes grokking_agreement.json.

    python benchmarks/grokking_gpu.py             # on CUDA (about 5 minutes on one H100)
    python benchmarks/grokking_gpu.py --part map  # the transformer phase map alone (about 5 minutes on one H100)
    python benchmarks/grokking_gpu.py --part map --compile --no-compile  # the map with torch.compile, no extra timing
    python benchmarks/grokking_gpu.py --part map --compile --precision bf16 --skip-precision --skip-sequential --no-compile  # the map alone, fastest
    python benchmarks/grokking_gpu.py --part map --compile --precision bf16 --skip-precision --no-compile --rounding  # the map, the same models one after another, and the single runs' rounding spread
    python benchmarks/grokking_gpu.py --part rounding --device cpu --seeds-list 2 3  # the rounding spread alone (10 minutes a run on a CPU core)
    python benchmarks/grokking_gpu.py --part agreement --seeds 16  # the agreement point over 16 seeds (about 4 minutes on one H100)
    python benchmarks/grokking_gpu.py --quick     # tiny sizes, CPU, a minute or two: proves the script works
    OUT=results python benchmarks/grokking_gpu.py # also writes results/grokking.json
"""
import argparse, json, os, statistics, sys, time
import numpy as np, torch
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

def rounding_spread(p, frac, seeds, device, max_steps=20_000, target=0.99, size=None, rel=1e-6, draws=2):
    """How far rounding alone moves a single run's steps to `target`: per seed, `train_grokking` in float32, in TF32,
    and in float32 from initial weights multiplied by (1 + `rel` x normal noise), `draws` times (a change the size of a
    few float32 roundings)"""
    out = {}
    for s in seeds:
        train, valid = modular_arithmetic_data(p, '+', frac, seed=s); runs = {}
        tf32 = ['tf32'] if torch.device(device).type == 'cuda' else []  # no TF32 on a CPU
        for name in ['fp32'] + tf32 + [f'fp32, weights x (1 + {rel:g} noise) #{d}' for d in range(draws)]:
            torch.manual_seed(s); m = OneLayerTransformer(p, **(size or {}))
            if '#' in name:
                gen = torch.Generator().manual_seed(1000 + int(name[-1]))
                with torch.no_grad():
                    for q in m.parameters(): q.mul_(1 + rel * torch.randn(q.shape, generator=gen))
            torch.set_float32_matmul_precision('high' if name == 'tf32' else 'highest')
            h = train_grokking(m, train, valid, steps=max_steps, every=10, stop_at=target, check_every=100, device=device)
            runs[name] = grokking_steps(h, gen_thresh=target)['generalise']
        torch.set_float32_matmul_precision('highest')
        out[s] = runs; print(f"  rounding, seed {s}: {runs}", flush=True)
    return out

def agreement(p, frac, wd, n_seeds, device, max_steps=20_000, target=0.99, size=None, every=50, check_every=500,
              precision='bf16', compile=True, save=None, single_from=0):
    "Steps to `target` at one cell of the map for seeds 0..n_seeds-1: stacked as the map trains them, and each alone in fp32"
    res = dict(p=p, frac=frac, wd=wd, seeds=n_seeds, max_steps=max_steps, target=target)
    d = phase_diagram('modular_transformer', (wd,), (frac,), seeds=n_seeds, steps=max_steps, lr=1e-3, every=every,
                      device=device, p=p, stop_at=target, check_every=check_every, precision=precision,
                      cuda_graph=torch.device(device).type == 'cuda', compile=compile, **(size or {}))
    st = d.steps_to(target).ravel()
    res['stacked'] = dict(precision=precision, compile=compile, seconds=d.seconds, phases=d.phases.ravel().tolist(),
                          steps=[None if np.isnan(x) else int(x) for x in st])
    print(f"stacked ({precision}, compile={compile}): {res['stacked']['steps']} in {d.seconds:.1f}s", flush=True)
    save and save(res)
    torch.set_float32_matmul_precision('highest')
    res['single'] = transformer_runs('single fp32', range(single_from, n_seeds), p, frac, max_steps, device, wd=wd, target=target, size=size)
    save and save(res)
    return res

# ---- the transformer phase map ----------------------------------------------------------------------------------------
PEAKS = {  # dense tensor-core peaks (FLOP/s) and memory bandwidth (B/s) of the SXM cards, from NVIDIA's data sheets
    'H100': dict(fp32=66.9e12, tf32=494.7e12, bf16=989.4e12, bw=3.35e12),
    'H200': dict(fp32=66.9e12, tf32=494.7e12, bf16=989.4e12, bw=4.8e12)}

def per_example_cost(p, size, n=512, device='cpu'):
    "FLOPs (forward + backward, counted by `FlopCounterMode`) and bytes of the tensors autograd saves, per example, one model"
    from torch.utils.flop_counter import FlopCounterMode
    torch.manual_seed(0); m = OneLayerTransformer(p, **(size or {})).to(device)
    x, y = torch.randint(0, p, (n, 2), device=device), torch.randint(0, p, (n,), device=device)
    saved = {}
    def pack(t): saved[(t.data_ptr(), t.shape)] = t.numel() * t.element_size(); return t
    with FlopCounterMode(display=False) as fc, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        torch.nn.functional.cross_entropy(m(x), y).backward()
    n_params = sum(q.numel() for q in m.parameters())
    par = {(q.data_ptr(), q.shape) for q in m.parameters()}
    act = sum(v for k, v in saved.items() if k not in par)  # activations only: the weights are counted below
    return fc.get_total_flops() / n, act / n, n_params

def floors(card, p, size, rows, n_models, precision):
    "Lower bounds on one step of the stacked models: FLOPs at the card's peak rate, bytes at its bandwidth"
    fl, act, n_params = per_example_cost(p, size)
    act_b = act / (2 if precision == 'bf16' else 1)           # bf16 autocast saves half-size activations (about)
    flops = fl * rows
    bytes_ = 2 * act_b * rows + 7 * 4 * n_params * n_models   # activations written once and read once; AdamW: p, g, m, v
    pk = next((v for k, v in PEAKS.items() if k in card), PEAKS['H100'])
    return dict(flops_per_step=flops, bytes_per_step=bytes_, flops_per_example=fl, saved_bytes_per_example=act,
                params_per_model=n_params, ms_flop_floor=1e3 * flops / pk[precision], ms_byte_floor=1e3 * bytes_ / pk['bw'])

def map_grid(quick):
    if quick: return dict(p=23, wds=(0.1, 1.), fracs=(0.3, 0.6), seeds=2, steps=300, size=dict(d_model=32, d_mlp=64), every=10,
                          check_every=50, cells=[(1., 0.3)])
    return dict(p=113, wds=(0.1, 0.3, 1., 3., 10.), fracs=(0.1, 0.2, 0.3, 0.4, 0.5), seeds=4, steps=20_000, size=None,
                every=50, check_every=500, cells=[(1., 0.3), (3., 0.3)])

def pdiag(g, dev, wds=None, fracs=None, **kw):
    return phase_diagram('modular_transformer', wds or g['wds'], fracs or g['fracs'], seeds=g['seeds'], lr=1e-3, every=g['every'],
                         device=dev, p=g['p'], **(g['size'] or {}), **kw)

def time_variant(g, dev, steps, **kw):
    "ms per step of the full grid's models (no stopping), timed inside `train_together` (capture excluded)"
    t0 = time.perf_counter()
    d = pdiag(g, dev, steps=steps, **kw)
    return dict(**kw, ms_per_step=1e3 * d.hist['seconds'] / steps, setup_seconds=d.hist['setup_seconds'],
                wall_seconds=time.perf_counter() - t0)

def transformer_map(a, dev, out):
    g = map_grid(a.quick); card = torch.cuda.get_device_name() if dev == 'cuda' else dev
    n_models = len(g['wds']) * len(g['fracs']) * g['seeds']
    res = dict(device=card, torch=torch.__version__, date=time.strftime('%Y-%m-%d'), grid={k: v for k, v in g.items()},
               n_models=n_models)
    save = lambda: out and json.dump(res, open(os.path.join(out, 'transformer_phase_map.json'), 'w'), indent=1)
    n_pairs = g['p'] ** 2
    sizes = [round(f * n_pairs) for f in g['fracs']]
    rows_used = len(g['wds']) * g['seeds'] * sum(sizes)           # the rows the models train on
    rows_padded = n_models * max(sizes)                             # the rows the stacked step computes
    res['floors'] = {pr: dict(used=floors(card, g['p'], g['size'], rows_used, n_models, pr),
                              padded=floors(card, g['p'], g['size'], rows_padded, n_models, pr)) for pr in ('fp32', 'tf32', 'bf16')}
    print(f"{n_models} transformers; floors per step (padded rows): " + ', '.join(
        f"{pr} {v['padded']['ms_flop_floor']:.2f} ms FLOP / {v['padded']['ms_byte_floor']:.2f} ms bytes" for pr, v in res['floors'].items()), flush=True)
    # 1. the step, several ways, on all the models of the map
    k = 20 if a.quick else 100
    variants = [dict(cuda_graph=False, precision='fp32', steps=max(k // 2, g['every']))] + (
        [dict(cuda_graph=True, precision=pr, steps=k) for pr in ('fp32', 'tf32', 'bf16')] if dev == 'cuda' else [])
    res['variants'] = []
    for v in variants:
        steps = v.pop('steps'); r = time_variant(g, dev, steps, **v); res['variants'].append(r); save()
        print(f"  step of {n_models} models: {v} {r['ms_per_step']:.2f} ms", flush=True)
    fast = [r for r in res['variants'] if r['precision'] != 'fp32' and r.get('cuda_graph')] or res['variants']
    best = min(fast, key=lambda r: r['ms_per_step'])
    opts = dict(cuda_graph=best['cuda_graph'], precision=a.precision or best['precision'], max_stacks=a.max_stacks,
                **(dict(compile=True) if a.compile else {}))
    # 2. the map
    d = pdiag(g, dev, steps=g['steps'], stop_at=0.99, check_every=g['check_every'], **opts)
    if out:
        np.savez_compressed(os.path.join(out, 'transformer_phase_map_curves.npz'), phases=d.phases,
                            **{k: v for k, v in d.hist.items() if isinstance(v, np.ndarray)})
        try:
            import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
            ax = d.plot(title=f"addition mod {g['p']}: one-layer transformers")
            ax.figure.savefig(os.path.join(out, 'transformer_phase_map.png'), dpi=100, bbox_inches='tight'); plt.close(ax.figure)
        except ImportError as e: print('no figure:', e)
    st = d.steps_to(0.99)
    res['map'] = dict(opts, streams=not a.no_streams, adam=a.adam, compile_cache='cold' if os.environ.get('COLD_CACHE') else 'as found', seconds=d.seconds, loop_seconds=d.hist['seconds'], steps=g['steps'], model_steps=int(d.hist['stopped'].sum()),
                      phase_counts=dict(zip(PHASES, d.counts().sum((0, 1)).tolist())), majority=d.majority().tolist(),
                      counts=d.counts().tolist(), phases=d.phases.tolist(), steps_to_99=np.where(np.isnan(st), None, st).tolist(),
                      stopped=d.hist['stopped'].tolist(), early_signal=d.signal_by_phase())
    print(f"map: {n_models} models in {d.seconds:.1f}s ({opts}); phases {res['map']['phase_counts']}", flush=True)
    print(f"early signal by phase: {res['map']['early_signal']}", flush=True); save()
    # 3. precision: a few cells in fp32 and in the low precisions, same stopping rule
    res['precision'] = []
    for pr in ([] if a.skip_precision else ['fp32', 'tf32', 'bf16'] if dev == 'cuda' else ['fp32']):
        # the cells share one training fraction: one run of all their models per precision
        c = pdiag(g, dev, wds=tuple(wd for wd, _ in g['cells']), fracs=(g['cells'][0][1],), steps=g['steps'], stop_at=0.99,
                  check_every=g['check_every'], cuda_graph=dev == 'cuda', precision=pr)
        for i, (wd, fr) in enumerate(g['cells']):
            s = c.steps_to(0.99)[i].ravel()
            res['precision'].append(dict(precision=pr, wd=wd, frac=fr, phases=c.phases[i].ravel().tolist(),
                                         steps_to_99=[None if np.isnan(x) else int(x) for x in s], seconds=c.seconds))
            print(f"  {pr} wd {wd} frac {fr}: phases {c.phases[i].ravel().tolist()} steps to 99% {s.tolist()}", flush=True)
        save()
    # 4. the same models one after another: train_grokking on a sample, extrapolated to every model's steps
    res['sequential'] = []
    for pr in () if a.skip_sequential else ('fp32', 'tf32'):
        torch.set_float32_matmul_precision('high' if pr == 'tf32' else 'highest')
        n, ms = (100 if a.quick else 2000), []
        for s in range(2):
            torch.manual_seed(s); train, valid = modular_arithmetic_data(g['p'], '+', 0.3, seed=s)
            h = train_grokking(OneLayerTransformer(g['p'], **(g['size'] or {})), train, valid, steps=n, every=g['every'], device=dev)
            ms.append(1e3 * (h['seconds'] + h['setup_seconds']) / n)
        est = statistics.mean(ms) * res['map']['model_steps'] / 1e3
        res['sequential'].append(dict(precision=pr, ms_per_step=statistics.mean(ms), extrapolated_seconds=est,
                                      ratio=est / res['map']['seconds']))
        print(f"  one after another ({pr}): {statistics.mean(ms):.2f} ms/step -> {est:.0f}s for the map's "
              f"{res['map']['model_steps']} model-steps, {est / res['map']['seconds']:.1f}x the map", flush=True)
    torch.set_float32_matmul_precision('highest'); save()
    # 5. agreement with the single-model runs (results/h100_grokking.json: fp32, wd 1, 30% train, seeds 0-4)
    single = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results', 'h100_grokking.json')
    if not a.quick and os.path.exists(single):
        runs = json.load(open(single))['transformer'][0]['runs']
        i, j = g['wds'].index(1.), g['fracs'].index(0.3)
        res['agreement'] = dict(single_steps={r['seed']: r['steps'] for r in runs}, map_steps=st[i, j].tolist(),
                                fp32_cell=next((r['steps_to_99'] for r in res['precision'] if r['precision'] == 'fp32' and (r['wd'], r['frac']) == (1., 0.3)), None))
        print(f"agreement: single runs {res['agreement']['single_steps']}, map {res['agreement']['map_steps']}, "
              f"fp32 cell {res['agreement']['fp32_cell']}", flush=True); save()
        if a.rounding:
            sp = rounding_spread(g['p'], 0.3, range(g['seeds']), dev, g['steps'], size=g['size'], draws=1)
            res['agreement']['rounding'] = sp
            within = lambda m, vs: None if np.isnan(m) or not vs else bool(min(vs) <= m <= max(vs))
            res['agreement']['map_within_rounding'] = [within(m, [v for v in sp[s].values() if v])
                                                       for s, m in enumerate(st[i, j])]
            print(f"map within each seed's rounding spread: {res['agreement']['map_within_rounding']}", flush=True); save()
    # 6. torch.compile, timed last (informational: the map above does not depend on it)
    if dev == 'cuda' and not a.no_compile:
        for pr in ('bf16',):
            try: r = time_variant(g, dev, k, cuda_graph=True, precision=pr, compile=True)
            except Exception as e: r = dict(precision=pr, compile=True, error=repr(e)[:300])
            res['variants'].append(r); save(); print(f"  compiled: {r}", flush=True)
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='tiny sizes that run on a CPU in a minute or two')
    ap.add_argument('--device', default=None, help='default: cuda when available')
    ap.add_argument('--seeds', type=int, default=5)
    ap.add_argument('--part', default='all', choices=['all', 'lab', 'map', 'rounding', 'agreement'],
                    help="'lab': parts 1-3, 'map': part 4, 'rounding': the single runs' rounding spread alone (seeds from --seeds-list), "
                         "'agreement': the map's agreement point over --seeds seeds, stacked and alone")
    ap.add_argument('--seeds-list', type=int, nargs='*', default=[0, 1, 2, 3], help="--part rounding: the seeds")
    ap.add_argument('--single-from', type=int, default=0, help="--part agreement: the single runs start at this seed (to add seeds to an earlier run)")
    ap.add_argument('--no-compile', action='store_true', help="skip timing the torch.compile'd step")
    ap.add_argument('--compile', action='store_true', help="train the map itself with `compile=True` (its compile time counts)")
    ap.add_argument('--skip-precision', action='store_true', help="skip the map's cells in fp32, tf32 and bf16 side by side")
    ap.add_argument('--precision', choices=['fp32', 'tf32', 'bf16'], help="train the map in this precision (default: the fastest step)")
    ap.add_argument('--rounding', action='store_true', help="also how far rounding alone moves the single runs at the map's agreement point")
    ap.add_argument('--skip-sequential', action='store_true', help="skip timing the models one after another")
    ap.add_argument('--no-streams', action='store_true', help="run the map's stacks one after another on one CUDA stream")
    ap.add_argument('--max-stacks', type=int, default=8, help="`train_together`'s max_stacks for the map")
    ap.add_argument('--adam', choices=['fused', 'foreach'], default='fused', help="Adam's CUDA implementation in `train_together`")
    a = ap.parse_args()
    dev = a.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    import recipe.grokking as G
    if a.no_streams: G._CONCURRENT_STACKS = False
    G._FUSED_ADAM = a.adam == 'fused'
    if a.quick: torch.set_num_threads(1)  # tiny models: one thread beats contending for a shared machine's cores
    if dev == 'cuda': torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # fp32 as on CPU
    if a.quick: p, frac, max_steps, seeds, size = 23, 0.5, 300, list(range(2)), dict(d_model=32, d_mlp=64)
    else: p, frac, max_steps, seeds, size = 113, 0.3, 40_000, list(range(a.seeds)), None  # the study's sizes
    if a.part == 'rounding':
        res = dict(device=torch.cuda.get_device_name() if dev == 'cuda' else dev, torch=torch.__version__, date=time.strftime('%Y-%m-%d'),
                   p=p, train_frac=0.3, rounding=rounding_spread(p, 0.3, a.seeds_list, dev, 20_000, size=size))
        if os.environ.get('OUT'):
            os.makedirs(os.environ['OUT'], exist_ok=True)
            json.dump(res, open(os.path.join(os.environ['OUT'], 'grokking_rounding.json'), 'w'), indent=1)
        return
    if a.part == 'agreement':
        out = os.environ.get('OUT'); head = dict(device=torch.cuda.get_device_name() if dev == 'cuda' else dev,
                                                 torch=torch.__version__, date=time.strftime('%Y-%m-%d'))
        if out: os.makedirs(out, exist_ok=True)
        def save(r):
            if out: json.dump(dict(head, **r), open(os.path.join(out, 'grokking_agreement.json'), 'w'), indent=1)
        g = map_grid(a.quick)
        agreement(g['p'], 0.3, 1., a.seeds, dev, g['steps'], size=g['size'], every=g['every'], check_every=g['check_every'],
                  precision='bf16' if dev == 'cuda' else 'fp32', compile=dev == 'cuda', save=save,
                  single_from=a.single_from)
        return
    if a.part != 'lab':
        out = os.environ.get('OUT')
        if out: os.makedirs(out, exist_ok=True)
        transformer_map(a, dev, out)
        if a.part == 'map': return
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
