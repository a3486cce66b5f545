"""minirl.optim: the update rules that turn gradients into parameter changes (book §1.6, §5.7, §5.9).

    from minirl.optim import Adam
    opt = Adam(model.parameters(), lr=3e-4)
    opt.zero_grad(); loss.backward(); opt.step()

Names, defaults, update formulas and `state_dict()` layouts are PyTorch's (`torch.optim`), so hyper-parameters
from papers and PyTorch code transfer as they are. Each rule's file shows its update formula as the lines that
run, once per parameter; ``fused=True`` runs it once per group over a flat buffer, through a kernel where the
rule has one (`kernels.adam`, `kernels.sgd`), with the same numbers (see optimizer.py).

- first-order rules: `SGD` (momentum, Nesterov; book Alg. 1.1), `Adagrad`, `RMSprop`, `Adam` (book Alg. 1.2,
  with AMSGrad) and `AdamW`;
- `KFAC`: Kronecker-factored natural gradient with ACKTR's KL-clipped step (book §5.9, Alg. 5.25);
- `conjugate_gradient` and `fisher_vector_product`: TRPO's natural-gradient solve (book §5.7, Alg. 5.22);
- `lr_scheduler`: StepLR, ExponentialLR, LinearLR, CosineAnnealingLR, LambdaLR;
- `clip_grad_norm_`, `clip_grad_value_`.
"""

from minirl.optim import lr_scheduler
from minirl.optim.adagrad import Adagrad
from minirl.optim.adam import Adam, AdamW
from minirl.optim.clip_grad import clip_grad_norm_, clip_grad_value_
from minirl.optim.conjugate_gradient import (
    conjugate_gradient,
    fisher_vector_product,
    flat_grad,
    parameters_to_vector,
    vector_to_parameters,
)
from minirl.optim.kfac import KFAC
from minirl.optim.optimizer import Optimizer
from minirl.optim.rmsprop import RMSprop
from minirl.optim.sgd import SGD

__all__ = [
    "KFAC", "SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "clip_grad_norm_", "clip_grad_value_",
    "conjugate_gradient", "fisher_vector_product", "flat_grad", "lr_scheduler", "parameters_to_vector",
    "vector_to_parameters",
]
