"""Time `recipe.data.inspect_data` on 200,000 synthetic 3x32x32 images with planted duplicates, leaks and label conflicts.

Measures items/second, the peak memory growth during the inspection (resident set size sampled every 5 ms, and
tracemalloc's peak for Python/NumPy allocations), and the recall and false positives of duplicate and leak detection.

    python benchmarks/data_inspection.py --device cpu            # the full run
    python benchmarks/data_inspection.py --n 20000 --device cpu  # a quick one

Writes `$OUT/data_inspection.json` when the environment variable OUT is set.

Measured on 2 shared CPU cores (`--repeats 3 --device cpu`, median; load average 14 from other jobs):
    200,000 items in 59.0 s wall (3,393 items/s), 18.4 s of CPU time (~10,900 items per CPU-second);
    peak RSS growth 128 MB (data already loaded), tracemalloc peak 54.5 MB;
    exact duplicates 500/500 found, leaks 500/500, near duplicates (+-1/255 noise) 200/200, label conflicts 100/100;
    false positives: 0 duplicates, 0 leaks, 0 near leaks on random data.
"""
import argparse, json, os, statistics, sys, threading, time, tracemalloc, resource
import numpy as np, torch

def rss_mb():
    "Resident set size of this process in MB"
    try:
        with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
    except OSError: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

class PeakRSS:
    "Sample the RSS in a thread while the block runs; `growth` is the peak minus the RSS at the start"
    def __enter__(self):
        self.start = self.peak = rss_mb(); self.done = False
        def loop():
            while not self.done: self.peak = max(self.peak, rss_mb()); time.sleep(0.005)
        self.t = threading.Thread(target=loop, daemon=True); self.t.start()
        return self
    def __exit__(self, *a):
        self.done = True; self.t.join(); self.peak = max(self.peak, rss_mb()); self.growth = self.peak - self.start

class Items:
    "Item i of an in-memory uint8 tensor and its label"
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]

def to_image(b):
    "Give a collated batch fastai's vision types, so `IntToFloatTensor` and `Normalize` apply (and decode)"
    from fastai.torch_core import TensorImage, TensorCategory
    return TensorImage(b[0]), TensorCategory(b[1])

def make_data(n=200_000, valid_pct=0.1, n_dup=500, n_leak=500, n_near=200, n_conflict=100, n_classes=10, seed=0):
    "Random images with planted exact duplicates, leaks (valid copies of train items), near copies and label conflicts"
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.randint(0, n_classes, (n,), generator=g)
    n_va = int(n * valid_pct); n_tr = n - n_va
    perm = torch.randperm(n_tr, generator=g).tolist()
    src, dst = perm[:n_dup + n_near], perm[n_dup + n_near:2 * (n_dup + n_near)]
    dup = list(zip(src[:n_dup], dst[:n_dup]))            # exact copies inside train
    near = list(zip(src[n_dup:], dst[n_dup:]))           # copies with +-1 (of 255) noise on every pixel, inside train
    for a, b in dup: x[b], y[b] = x[a], y[a]
    for a, b in near: x[b] = (x[a].long() + torch.randint(-1, 2, (3, 32, 32), generator=g)).clamp(0, 255).to(torch.uint8)
    for a, b in dup[:n_conflict]: y[b] = (y[a] + 1) % n_classes   # same input, another label
    vperm = torch.randperm(n_va, generator=g).tolist()[:n_leak]
    tsrc = perm[2 * (n_dup + n_near):2 * (n_dup + n_near) + n_leak]
    leaks = list(zip(vperm, tsrc))                        # valid item v is a copy of train item t
    for v, t in leaks: x[n_tr + v], y[n_tr + v] = x[t], y[t]
    return x, y, n_tr, dict(dup=dup, near=near, leaks=leaks, conflicts=dup[:n_conflict])

def make_dls(x, y, n_tr, bs=256, device='cpu'):
    from fastai.data.core import DataLoaders
    from fastai.data.transforms import IntToFloatTensor, Normalize
    from fastai.data.transforms import ItemTransform
    tfms = [ItemTransform(to_image), IntToFloatTensor(), Normalize.from_stats([0.5] * 3, [0.29] * 3, cuda=False)]
    return DataLoaders.from_dsets(Items(x[:n_tr], y[:n_tr]), Items(x[n_tr:], y[n_tr:]), bs=bs,
                                  after_batch=tfms, device=torch.device(device), num_workers=0)

def score(rep, planted):
    "Recall of the planted defects and false positives (reported items that were not planted)"
    dups, leaks = rep['duplicates'].details, rep['leakage'].details
    return dict(
        exact_dup_found=dups['exact'], exact_dup_planted=len(planted['dup']),
        exact_dup_found_planted=len(set(dups['copy_idx'].tolist()) & {max(a, b) for a, b in planted['dup']}),
        exact_dup_false_pos=len(set(dups['copy_idx'].tolist()) - {max(a, b) for a, b in planted['dup']}),
        near_dup_found=dups['near'], near_dup_planted=len(planted['near']),
        near_dup_false_pos=max(0, dups['near'] - len(planted['near'])),
        leak_found=len(set(leaks['exact_idx'].tolist()) & {v for v, t in planted['leaks']}), leak_planted=len(planted['leaks']),
        leak_false_pos=len(set(leaks['exact_idx'].tolist()) - {v for v, t in planted['leaks']}),
        near_leak_false_pos=leaks['near'],
        conflicts_found=rep['label_conflicts'].value, conflicts_planted=len(planted['conflicts']))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=200_000, help='items in all')
    p.add_argument('--bs', type=int, default=256)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--repeats', type=int, default=1, help='timed runs of inspect_data; the median is reported')
    a = p.parse_args(argv)
    from recipe.data import inspect_data
    x, y, n_tr, planted = make_data(a.n)
    dls = make_dls(x, y, n_tr, a.bs, a.device)
    times, cpus, mems, pys = [], [], [], []
    for r in range(a.repeats):
        tracemalloc.start()
        with PeakRSS() as m:
            t0, c0 = time.perf_counter(), time.process_time()
            rep = inspect_data(dls, verbose=False)
            if a.device.startswith('cuda'): torch.cuda.synchronize()
            times.append(time.perf_counter() - t0); cpus.append(time.process_time() - c0)
        pys.append(tracemalloc.get_traced_memory()[1] / 2**20); tracemalloc.stop()
        mems.append(m.growth)
    t = statistics.median(times)
    res = dict(device=a.device, n_items=a.n, bs=a.bs, repeats=a.repeats,
               seconds=round(t, 2), items_per_s=round(a.n / t), cpu_seconds=round(statistics.median(cpus), 2),
               load_avg=round(os.getloadavg()[0], 1), rss_growth_mb=round(max(mems), 1),
               tracemalloc_peak_mb=round(max(pys), 1), **score(rep, planted),
               statuses={f.name: f.status for f in rep})
    res['recall_exact_dup'] = res['exact_dup_found_planted'] / res['exact_dup_planted']
    res['recall_leak'] = res['leak_found'] / res['leak_planted']
    res['recall_near_dup'] = min(res['near_dup_found'], res['near_dup_planted']) / res['near_dup_planted']
    w = max(map(len, res))
    for k, v in res.items(): print(f"{k:<{w}}  {v}")
    if os.environ.get('OUT'):
        with open(os.path.join(os.environ['OUT'], 'data_inspection.json'), 'w') as f: json.dump(res, f, indent=2)
    return res

if __name__ == '__main__': main()
