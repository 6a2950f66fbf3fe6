"""What a fastai user would add instead of `TrainingHealth`: fastai's `ActivationStats` and a gradient-norm logger.

A stand-in for `benchmarks/training_health.py --impl benchmarks/fastai_stats.py`, which times it beside `TrainingHealth`
in the same run: `TrainingHealth(every=N)` here is fastai's `ActivationStats(every=N)` (its defaults: the mean and
standard deviation of the output of every module with parameters, recorded through forward hooks) together with a
callback that logs the total gradient norm every `N` steps the way logging callbacks usually do (`.item()`).
"""
import torch
from fastai.callback.core import Callback
from fastai.callback.hook import ActivationStats

class GradNormLogger(Callback):
    "Log the total gradient norm after the backward pass, every `every` training steps"
    order = 60
    def __init__(self, every=1): self.every, self.norms = every, []
    def after_backward(self):
        if self.train_iter % self.every: return
        gs = [p.grad.detach().norm() for p in self.model.parameters() if p.grad is not None]
        if gs: self.norms.append(torch.stack(gs).norm().item())

class TrainingHealth(Callback):
    "fastai's `ActivationStats(every=every)` and a `GradNormLogger(every=every)`, as one callback"
    order = ActivationStats.order
    def __init__(self, every=1, **kwargs):
        self.every = every
        self.cbs = [ActivationStats(every=every), GradNormLogger(every=every)]
    def _each(self, event):
        for cb in self.cbs:
            if hasattr(cb, event):
                cb.learn = self.learn
                getattr(cb, event)()
    def before_fit(self): self._each('before_fit')
    def before_batch(self): self._each('before_batch')
    def after_backward(self): self._each('after_backward')
    def after_batch(self): self._each('after_batch')
    def after_fit(self): self._each('after_fit')
