"""Where the stacked transformer step's time goes: the step of the transformer phase map's models, timed per
forward formulation, precision and stacking, with the top CUDA kernels of each formulation.

    python benchmarks/transformer_step.py          # on CUDA
    python benchmarks/transformer_step.py --quick  # tiny, CPU
    python benchmarks/transformer_step.py --runs tables:tf32:by_size tables:tf32:by_size:compile --profile tables tables:compile
"""
import argparse, json, os, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try: import fastai.learner  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from grokking_gpu import _placeholder_fastai; _placeholder_fastai()
from recipe.grokking import OneLayerTransformer, train_together, modular_arithmetic_data, _n_pairs

class _Positions(OneLayerTransformer):
    "the three positions' residual stream `h` and their queries, keys and values, per head"
    stackable = False  # these forwards take one model's weights: `train_together` vmaps them
    def qkv_heads(self, x):
        h = self.embed(torch.cat([x, torch.full_like(x[:, :1], self.p)], 1)) + self.pos
        B, T, D = h.shape
        return h, *self.qkv(h).view(B, T, 3, self.n_heads, D // self.n_heads).unbind(2)

class Einsum(_Positions):
    "attention at the last position through einsums over the three positions' queries, keys and values"
    def forward(self, x):
        h, q, k, v = self.qkv_heads(x)
        att = (torch.einsum('bhd,bthd->bht', q[:, -1], k) / q.shape[-1]**0.5).softmax(-1)
        r = h[:, -1] + self.attn_out(torch.einsum('bht,bthd->bhd', att, v).reshape(len(x), -1))
        return self.unembed(r + self.mlp(r))

class Elementwise(_Positions):
    "attention at the last position as products and sums instead of einsums"
    def forward(self, x):
        h, q, k, v = self.qkv_heads(x)
        att = ((q[:, -1:] * k).sum(-1) / q.shape[-1]**0.5).softmax(1)  # (B, T, H)
        r = h[:, -1] + self.attn_out((att[..., None] * v).sum(1).reshape(len(x), -1))
        return self.unembed(r + self.mlp(r))

class OneHot(OneLayerTransformer):
    "the library's forward, its table lookups as products with one-hot rows: matrix products forward and backward, no scatter"
    def lookup(self, idx, table): return F.one_hot(idx, table.shape[-2]).to(table.dtype) @ table

MODELS = dict(einsum=Einsum, elementwise=Elementwise, tables=OneLayerTransformer,  # tables: the library's forward
              onehot=OneHot)

def grid(p, wds, fracs, seeds):
    n_pairs = _n_pairs(p, '+'); sizes = [round(f * n_pairs) for f in fracs]
    data = [modular_arithmetic_data(p, '+', max(sizes) / n_pairs, s) for s in range(seeds)]
    g = [(w, n, s) for w in wds for n in sizes for s in range(seeds)]
    return g, data, sizes

def step_ms(model, g, data, size, steps, dev, **kw):
    pick = lambda j, i: torch.stack([data[s][j][i] for _, _, s in g])
    mask = torch.arange(max(n for _, n, _ in g))[None] < torch.tensor([n for _, n, _ in g])[:, None]
    n = mask.shape[1]
    h, _ = train_together(lambda: model(**size), [s for *_, s in g], (pick(0, 0)[:, :n], pick(0, 1)[:, :n]), mask,
                          (pick(1, 0), pick(1, 1)), [w for w, *_ in g], steps=steps, every=50 if steps >= 50 else steps,
                          device=dev, **kw)
    return 1e3 * h['seconds'] / steps, h

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--quick', action='store_true'); ap.add_argument('--no-compile', action='store_true')
    ap.add_argument('--runs', nargs='*', help='only these runs, as model:precision:stacking[:compile][:streams]')
    ap.add_argument('--profile', nargs='*', default=['einsum', 'tables'], help='kernel tables of these, as model[:precision][:compile]')
    ap.add_argument('--fracs', type=float, nargs='*', help='training fractions of the grid (default 0.1 to 0.5)')
    a = ap.parse_args()
    torch._dynamo.config.recompile_limit = 64  # every run compiles its own models' loss
    dev = 'cuda' if torch.cuda.is_available() and not a.quick else 'cpu'
    if a.quick: p, size, wds, fracs, seeds, steps = 23, dict(p=23, d_model=32, d_mlp=64), (0.1, 1.), (0.3, 0.5), 2, 10
    else: p, size, wds, fracs, seeds, steps = 113, dict(p=113), (0.1, 0.3, 1., 3., 10., 30.), (0.1, 0.2, 0.3, 0.4, 0.5), 4, 100
    if a.fracs: fracs = tuple(a.fracs)
    # the formulations agree
    torch.manual_seed(0); ref = Einsum(**size); x = torch.randint(0, p, (64, 2))
    res = dict(device=torch.cuda.get_device_name() if dev == 'cuda' else 'cpu', torch=torch.__version__, date=time.strftime('%Y-%m-%d'),
               agree={}, runs=[])
    for k, m in MODELS.items():
        mm = m(**size); mm.load_state_dict(ref.state_dict())
        res['agree'][k] = float((mm(x) - ref(x)).abs().max())
    print('max |logit difference| vs einsum:', res['agree'], flush=True)
    g, data, sizes = grid(p, wds, fracs, seeds)
    graph = dev == 'cuda'
    plan = [(k, pr, 'one', {}) for k in MODELS for pr in ('tf32',)] + [
        ('tables', 'fp32', 'one', {}), ('einsum', 'tf32', 'by_size', {}), ('tables', 'tf32', 'by_size', {}),
        ('tables', 'bf16', 'by_size', {}), ('tables', 'fp32', 'by_size', {})] + (
        [('tables', 'tf32', 'by_size', dict(compile=True))] if dev == 'cuda' and not a.no_compile else [])
    if a.runs is not None:
        plan = [(k, pr, st, {o: True for o in c}) for k, pr, st, *c in (r.split(':') for r in a.runs)]
    out = os.environ.get('OUT')
    import recipe.grokking as G
    for k, pr, stacking, kw in plan:
        G._CONCURRENT_STACKS = kw.pop('streams', False)  # the stacks on streams of their own
        try:
            ms, h = step_ms(MODELS[k], g, data, size, steps, dev, precision=pr, cuda_graph=graph,
                            max_stacks=1 if stacking == 'one' else 8, **kw)
            r = dict(ms_per_step=ms, setup_seconds=h['setup_seconds'])
        except Exception as e: r = dict(error=repr(e)[:500])
        res['runs'].append(dict(model=k, precision=pr, stacking=stacking, **kw, streams=G._CONCURRENT_STACKS, n_models=len(g), **r))
        print(f"{k:12s} {pr:5s} {stacking:8s} {kw} {r}", flush=True)
        if out: json.dump(res, open(os.path.join(out, 'transformer_step.json'), 'w'), indent=1)
    if dev == 'cuda':
        from torch.profiler import profile, ProfilerActivity
        for name in a.profile:
            k, *o = name.split(':')
            pr, c = next((x for x in o if x != 'compile'), 'tf32'), 'compile' in o
            if c: step_ms(MODELS[k], g, data, size, 2, dev, precision=pr, cuda_graph=False, compile=True)  # compiled first
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                step_ms(MODELS[k], g, data, size, 5, dev, precision=pr, cuda_graph=False, compile=c)  # by size
            t = prof.key_averages().table(sort_by='self_cuda_time_total', row_limit=25, max_name_column_width=70)
            print(name, '\n', t, flush=True)
            if out: open(os.path.join(out, f"kernels_{name.replace(':', '_')}.txt"), 'w').write(t)

if __name__ == '__main__': main()
