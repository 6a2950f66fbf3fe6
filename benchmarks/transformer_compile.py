"""Cold compilation and step time of the transformer map's compiled step, one variant per fresh process, each with an
empty compilation cache (what a first `phase_diagram(..., compile=True)` on a machine pays).

Variants:
- `library`: `train_together` as it is (bf16 autocast, float32 logits, `torch.compile(..., dynamic=False)` with the
  sizes that differ between stacks, the models and rows dimensions, marked dynamic; p, the widths and the heads static).
- `symbolic`: every size a symbol (`torch.compile(..., dynamic=True)`), as `train_together` compiled before.
- `tf32_logits`: the library's step with the float32 logits' product in TF32.

For each: the seconds to set up the first stack (cold compilation and CUDA-graph capture) with
`torch._dynamo.utils.compile_times`' breakdown, then the milliseconds per step of the map's 60 longest-running models
(training fractions 0.1-0.3) and of all 100 (300 steps, recording every 50, no stopping), median of `--reps`.

    python benchmarks/transformer_compile.py                         # on CUDA: every variant, a few minutes
    python benchmarks/transformer_compile.py --variants library symbolic
    python benchmarks/transformer_compile.py --quick                 # tiny sizes on the CPU: proves the script works
    OUT=results python benchmarks/transformer_compile.py             # also writes results/transformer_compile.json
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

VARIANTS = ('library', 'symbolic', 'tf32_logits')

def patch(variant):
    "Apply `variant` to this process (`train_together` reads `torch.compile` and the matmul precision at call time)"
    import torch
    if variant == 'symbolic':
        real = torch.compile
        torch.compile = lambda fn, dynamic=None, **kw: real(fn, dynamic=True if dynamic is False else dynamic, **kw)
    elif variant == 'tf32_logits':  # under bf16 autocast the only float32 products are the logits'
        real_prec = torch.set_float32_matmul_precision
        torch.set_float32_matmul_precision = lambda p: real_prec('high' if p == 'highest' else p)
    elif variant != 'library': raise SystemExit(f"unknown variant {variant!r}: pass one of {VARIANTS}")

def child(a):
    "One variant, in this (fresh) process: cold setup, then the step timed"
    import torch
    try: import fastai.learner  # noqa: F401
    except ImportError:
        from grokking_gpu import _placeholder_fastai; _placeholder_fastai()
    from recipe.grokking import phase_diagram
    patch(a.child)
    dev = 'cuda' if torch.cuda.is_available() and not a.quick else 'cpu'
    if dev == 'cuda': torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    kw = dict(p=23, d_model=32, d_mlp=64) if a.quick else dict(p=113)
    steps, every = (40, 20) if a.quick else (300, 50)
    wds = (0.1, 0.3, 1., 3., 10.)
    def run(fracs):
        d = phase_diagram('modular_transformer', wds, fracs, seeds=4, steps=steps, every=every, device=dev,
                          precision='bf16', compile=True, **kw)
        return dict(ms=1e3 * d.hist['seconds'] / steps, setup=d.hist['setup_seconds'])
    tail, every_frac = (0.1, 0.2, 0.3), (0.1, 0.2, 0.3, 0.4, 0.5)
    cold = run(tail)
    from torch._dynamo.utils import compile_times
    names, vals = compile_times(repr='csv', aggregate=True)
    keep = ('_compile.compile_inner', 'bytecode_tracing', 'create_aot_dispatcher_function', 'aot_trace_joint_graph',
            'compile_fx.<locals>.fw_compiler_base', 'compile_fx_inner', 'async_compile.wait')
    breakdown = {n: round(float(v), 2) for n, v in zip(names, vals) if n in keep}
    tails, alls = [], []
    for _ in range(a.reps): tails.append(run(tail)['ms']); alls.append(run(every_frac)['ms'])
    print(json.dumps(dict(variant=a.child, cold_setup_seconds=cold['setup'], compile_times=breakdown,
                          ms_tail=statistics.median(tails), ms_all=statistics.median(alls), runs=dict(tail=tails, all=alls))))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--variants', nargs='*', default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument('--reps', type=int, default=3, help='timed runs of each step after the cold one')
    ap.add_argument('--quick', action='store_true', help='tiny sizes on the CPU')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: return child(a)
    import torch
    res = dict(device=torch.cuda.get_device_name() if torch.cuda.is_available() and not a.quick else 'cpu',
               torch=torch.__version__, date=time.strftime('%Y-%m-%d'), variants=[])
    for v in a.variants:
        with tempfile.TemporaryDirectory() as ind, tempfile.TemporaryDirectory() as tri:
            env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=ind, TRITON_CACHE_DIR=tri, PYTHONUNBUFFERED='1')
            cmd = [sys.executable, os.path.abspath(__file__), '--child', v, '--reps', str(a.reps)] + (['--quick'] if a.quick else [])
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
        r = json.loads(lines[-1]) if p.returncode == 0 and lines else dict(variant=v, error=p.stderr[-1500:])
        res['variants'].append(r); print(json.dumps(r), flush=True)
    out = os.environ.get('OUT')
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, 'transformer_compile.json'), 'w') as f: json.dump(res, f, indent=1)

if __name__ == '__main__': main()
