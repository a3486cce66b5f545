"""Action distributions for stochastic policies (book ch. 2.7.3): Categorical, Bernoulli, DiagGaussian,
TanhGaussian and the Gumbel-softmax relaxation, each with sample, rsample (where the reparameterisation
exists), log_prob, entropy, kl and mode."""

from minirl.distributions.base import Distribution
from minirl.distributions.categorical import Bernoulli, Categorical, GumbelSoftmax, gumbel
from minirl.distributions.gaussian import DiagGaussian, TanhGaussian

__all__ = ["Bernoulli", "Categorical", "DiagGaussian", "Distribution", "GumbelSoftmax", "TanhGaussian", "gumbel"]
