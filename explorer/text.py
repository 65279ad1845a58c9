"""The page's words: the introduction, each tab's explanation, and the ELBO tab's table.

Markdown with LaTeX between $...$ (inline) or $$...$$ (display), as LATEX tells Gradio.
"""
import math

from vae.reading import READ_POWER, READ_SIGMAS

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

TITLE = "# Exploring a VAE's 2-D latent space"
INTRO = (  # beside the Explorer's map, not above it: the first screen shows the map, the digit and the sliders
    "A variational autoencoder squeezes each 28×28 MNIST digit into just two numbers $z = (z_1, z_2)$ "
    "and learns to draw digits back from them. Every point of the map's plane decodes to a digit; "
    "the coloured dots are where the encoder puts the 10,000 test digits. New to this? The **Story** tab "
    "walks through the idea step by step."
)

EXPLORER = (
    "Drag the sliders or click the map. The decoder turns $z$ into the mean of $p_\\theta(x \\mid z)$: "
    "a brightness for each pixel. Training pulls the encoder's clouds towards the prior "
    "$p(z) = \\mathcal{N}(0, I)$, so most digits live within 3 of the origin and the space between "
    "classes decodes to blends."
)

ANOTHER_DIGIT = (
    "**Why a clean digit can come back as another.** Two numbers hold all ten classes: each class has its patch "
    "of the plane, and the patches share borders (the coloured map). Your digit comes back as whatever lives where "
    "its two numbers land, so a digit a little unlike the training digits can land across a border: a student's "
    "clean 8 can come back as a 5. The map shows where yours landed, and which patch it is in."
)

RECONSTRUCT = (
    "Your picture is turned into an MNIST-style input (ink found, fitted into 20×20, centred by mass) and "
    "encoded to $q_\\phi(z \\mid x) = \\mathcal{N}(\\mu, \\mathrm{diag}\\,\\sigma^2)$. The switch picks what is decoded. "
    f"**The reading**, the app's reconstruction: the average of the digits the decoder draws within {READ_SIGMAS:g}σ of $\\mu$, "
    f"each weighted by $p_\\theta(z \\mid x)^{{{READ_POWER:g}}}$, averaged again over your digit and copies of it moved by one pixel. "
    "**decode(μ)**, the textbook reconstruction: the decoder's digit at $q$'s mean. **A sample from q**: the digit at "
    "$z = \\mu + \\sigma \\odot \\epsilon$ for one $\\epsilon \\sim \\mathcal{N}(0, I)$, drawn with a seed fixed by your "
    "digit's pixels, so the same picture gives the same sample. Why the reading: the likelihood counts the 784 pixels as "
    "independent evidence, but the pixels of a stroke move together, so the true posterior is far surer than one picture "
    "warrants, and decoded at one point a digit near the border between two classes flips with a few pixels changed, or "
    "moved by one. The map marks two places. The ring with a crosshair is the posterior's peak, the most probable $z$ near "
    "$q$ (the API's `mode`). The dot with its small rings is $q$'s mean $\\mu$ and its 1σ and 2σ: the encoder is usually "
    "very sure, so they are tiny (the ELBO tab zooms in). The two need not meet: $q$ is fitted to cover all of the posterior's "
    "mass, which puts $\\mu$ near the posterior's mean rather than its peak, and the peak can lie several σ away; the "
    "numbers under the pictures say how far for your digit."
)

RECONSTRUCTION_LABELS = {"reading": "the reading", "mean": "decode(μ)", "sample": "a sample from q"}  # api.RECONSTRUCTIONS

MANIFOLD_SPACING = (
    "**Linear** spacing puts columns at equal steps in $z$. **Prior CDF** spacing, as in the manifold "
    "figure of Kingma & Welling's AEVB paper, puts them at equal steps of $u = \\Phi(z)$ between "
    "$\\Phi(c - s/2)$ and $\\Phi(c + s/2)$ and maps back with $z = \\Phi^{-1}(u)$: the same first and last "
    "columns, but every step holds the same prior probability, so cells crowd where $p(z)$ is dense."
)

SAMPLES = ("### Samples from the prior\n"
           "Draw $z \\sim \\mathcal{N}(0, I)$ and decode: this is how the VAE generates new digits.")

INTERPOLATION = ("### Interpolation\nWalk the straight line from A to B in latent space and decode every step. "
                 "Set A and B from test digits, your own digit (Reconstruct tab), the sliders, or by clicking the map.")

NATS = (
    "The figures are in **nats**. The model gives every possible picture a probability, and a log-probability in nats "
    "is that probability's natural logarithm: a digit at −84 nats gets probability $e^{-84}$, and one nat more makes a "
    "picture $e \\approx 2.7$ times as likely. A cost such as −ELBO is the same figure with its sign flipped: lower is better."
)

ELBO_INTRO = (
    "The VAE is trained to maximise the evidence lower bound (ELBO), "
    "$\\mathcal{L} = \\mathbb{E}_{q_\\phi(z \\mid x)} \\log p_\\theta(x \\mid z) - D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z)) \\le \\log p_\\theta(x)$: "
    "a reconstruction term minus a KL term that keeps the encoder's $q_\\phi(z \\mid x)$ close to the prior. "
    "With only two latent dimensions we can also compute $\\log p_\\theta(x)$ itself by summing over a fine grid of $z$, "
    "so you can see exactly how loose the bound is for one digit. " + NATS
)

MODEL_LABELS = {"beta0": "β = 0: reconstruction alone", "beta1": "β = 1: the VAE (the ELBO)", "beta5": "β = 5: KL weighed 5×"}
NOT_EVALUATED = "not evaluated"  # a figure only `python -m vae.evaluate` computes, for a model it has not measured


def model_label(name: str) -> str:
    """The model's name in the picker and the table: a committed model's words, or your own's NAME."""
    return MODEL_LABELS.get(name, f"{name}: your checkpoint")


def about_models(count: int) -> str:
    """The title of the folded words about the model picked and the models side by side."""
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return f"About this model, and the {words.get(count, count)} side by side" if count > 1 else "About this model"


def legibility_text(facts: dict) -> str:
    """How legible the model's prior samples are to bench/classifier.py's CNN, and the classes they never show."""
    if "prior_digits" not in facts:
        return f"How legible its prior samples are: {NOT_EVALUATED} (no bench/classifier.pt)."
    digits = facts["prior_digits"]
    missing = [str(d) for d, count in enumerate(digits) if count < 0.005 * sum(digits)]
    legible = (f"A classifier ({facts['classifier_test_accuracy']:.2%} right on MNIST's test set) is on average "
               f"{facts['prior_confidence']:.0%} sure of what its prior samples show, and {facts['prior_mass_confident']:.0%} "
               f"of the prior's mass decodes to a digit it is at least 90% sure of.")
    if missing:
        named = ", ".join(missing[:-1]) + " or " + missing[-1] if len(missing) > 1 else missing[0]
        legible += f" Among {sum(digits):,} prior samples it finds no {named}."
    return legible


def own_model_text(name: str, facts: dict) -> str:
    """The paragraph under the model picker for a checkpoint of your own: what it is, and whose figures the page shows."""
    epochs = f"{facts['epochs']} epoch{'s' if facts['epochs'] != 1 else ''}"
    words = (f"**{name}: your checkpoint** `{facts['path']}`, {facts['depth']} hidden layer(s) × {facts['hidden']} units, "
             f"trained for {epochs} with the KL term weighed β = {facts['beta']:g}.")
    if facts["evaluated"]:
        words += f" Its figures are those `python -m vae.evaluate` wrote for this checkpoint, on {facts['digits']:,} test digits."
    else:
        words += (f" Nobody has evaluated it yet, so the app measured it at start-up on {facts['digits_words']}: its map shows "
                  f"those, and its ELBO's terms are averaged over them with one sample of $z$ each. Its exact "
                  f"$\\log p_\\theta(x)$ and IWAE bound are {NOT_EVALUATED}: `python -m vae.evaluate --checkpoint {facts['path']}` "
                  "computes them (minutes) and the app shows them from then on.")
    return words


def model_text(name: str, facts: dict) -> str:
    """The paragraph under the model picker: what the KL term's weight did to this model, pointing at
    what the pictures show, and the classes its prior samples never show. `facts`: models.Model.facts."""
    legible = legibility_text(facts)
    if name not in MODEL_LABELS:
        return f"{own_model_text(name, facts)} {legible}"
    if name == "beta0":
        words = ("**β = 0: the reconstruction term alone**, $\\mathbb{E}_{q_\\phi(z \\mid x)} \\log p_\\theta(x \\mid z)$, "
                 "with the KL term $D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z))$, the regularizer that holds the codes near the prior, taken away. Nothing pulls "
                 "$q_\\phi(z \\mid x)$ towards the prior any more, so it shrinks towards a point and the codes spread as the "
                 "decoder likes: an autoencoder in VAE clothing. On the map the classes sit apart with empty plane between them, "
                 "holes the decoder was never taught to fill, and "
                 f"{facts['outside']:.0%} of the test digits lie beyond the map's window altogether. The prior draws near "
                 "the origin, so its samples show only the classes that happen to sit there, and blends where they fall "
                 "into a hole (Sample & interpolate).")
    elif name == "beta1":
        words = ("**β = 1: the VAE**, trained on the ELBO itself, $\\mathbb{E}_{q_\\phi(z \\mid x)} \\log p_\\theta(x \\mid z) "
                 "- D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z))$. The KL term is a regularizer: a penalty added to the goal "
                 "so that the model cannot fit its training digits any way it likes. It charges every digit for how far its "
                 "$q_\\phi(z \\mid x)$ strays from the prior $\\mathcal{N}(0, I)$, so the codes fill one disc around the origin "
                 "without holes, and almost every $z$ the prior draws decodes to a digit.")
    else:
        words = (f"**β = {facts['beta']:g}: the KL term weighed {facts['beta']:g} times**, $\\mathbb{{E}}_{{q_\\phi(z \\mid x)}} "
                 f"\\log p_\\theta(x \\mid z) - {facts['beta']:g}\\, D_{{KL}}(q_\\phi(z \\mid x) \\,\\|\\, p(z))$. Every nat "
                 "the code tells about a digit now costs several, so the encoder tells less: $q_\\phi(z \\mid x)$ stays wide "
                 "and near the prior, neighbouring classes merge on the map, and the decoder, unsure which digit it was given, "
                 "draws blurry averages. Smooth everywhere, but the reconstructions are worse.")
    return f"{words} {legible}"


def models_table(facts: dict[str, dict]) -> str:
    """The models side by side, each column one model's models.Model.facts (vae.evaluate's figures, nats
    per test digit), a figure missing for a model nobody evaluated said so; and under it, where its figures come from."""
    rows = [("test −ELBO", "neg_elbo", "{:.2f}"),
            ("reconstruction $-\\mathbb{E}_q \\log p_\\theta(x \\mid z)$", "reconstruction_nll", "{:.2f}"),
            ("KL $D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z))$", "kl", "{:.2f}"),
            ("exact $-\\log p_\\theta(x)$ (quadrature)", "neg_log_px", "{:.2f}"),
            ("classifier's mean confidence on 2,000 prior samples", "prior_confidence", "{:.1%}"),
            ("prior mass decoding to a digit it is ≥ 90% sure of", "prior_mass_confident", "{:.1%}"),
            ("99% of the test digits' codes lie within", "radius", "\\|z\\| = {:.1f}"),
            ("typical width σ of $q_\\phi(z \\mid x)$", "sigma", "{:.2g}")]

    def cell(f: dict, key: str, form: str) -> str:
        return form.format(f[key]) if key in f else NOT_EVALUATED

    networks = ("networks: hidden layers × units, epochs", lambda f: f"{f['depth']} × {f['hidden']}, {f['epochs']}")
    head = NATS + "\n\n| | " + " | ".join(model_label(name) for name in facts) + " |\n|---|" + "---:|" * len(facts) + "\n"
    lines = [f"| {label} | " + " | ".join(cell(f, key, form) for f in facts.values()) + " |" for label, key, form in rows]
    lines.append(f"| {networks[0]} | " + " | ".join(networks[1](f) for f in facts.values()) + " |")
    notes = [f"**{name}** was not evaluated by `python -m vae.evaluate`: its figures were computed at start-up on "
             f"{f['digits_words']}, its ELBO's terms with one sample of $z$ per digit." for name, f in facts.items() if not f["evaluated"]]
    return head + "\n".join(lines) + "".join("\n\n" + note for note in notes)


NO_REPLAY = ("This model has no training replay: it was trained with --replay 0, or its .replay.pt file is not beside "
             "its checkpoint. The loss curves come from the checkpoint itself.")


# Shown where the browser runs no JavaScript (explorer/gradio_adjustments.py); "{address}" is the app's address.
NO_JAVASCRIPT = ("This page needs JavaScript: the browser draws every picture on it. Without a browser, the same models "
                 "answer through the API at {address}/ (from Python: gradio_client's Client(\"{address}/\"); the "
                 "endpoints are listed at {address}/gradio_api/info).")

TRAINING = (
    "### Training, replayed\n"
    "While `python -m vae.train` ran, it recorded after every epoch where the encoder put 2,000 test digits "
    "(the means of $q_\\phi(z \\mid x)$), and at epochs 1, 2, 3, 5, 10, 20, 40 and the last a 10×10 manifold "
    "($z$ from −2 to 2, even in the prior's CDF). Drag the slider or press play: the classes pull apart in the first "
    "epochs, then the map settles and the manifold sharpens. The curves are the negative ELBO and its two terms, "
    "in nats per digit, on the test set and on 5,000 training digits (the reconstruction term on the test set alone); "
    "the grey vertical line is the epoch shown. "
    "Pick another model at the top to watch it form differently."
)

ELBO_SAMPLES = "Decodes of the first samples $z = \\mu + \\sigma \\odot \\epsilon$ (up to 16):"

ELBO_MAP_LABEL = ("Zoomed in: true posterior p(z|x) (grey shade), q(z|x)'s 1σ/2σ rings (black), samples (white dots), "
                  "best Gaussian q*'s 1σ ring (white)")

def elbo_reading(metrics: dict, beta: float, tol: float) -> str:
    """How to read the ELBO tab for a model: `metrics` are its vae.evaluate figures, `beta` the KL
    weight it was trained with, `tol` the quadrature's accuracy in nats."""
    reading = (
    "**Reading the numbers.** The reconstruction term is a Monte-Carlo average over $L$ draws "
    "$z^{(l)} = \\mu + \\sigma \\odot \\epsilon^{(l)}$, $\\epsilon^{(l)} \\sim \\mathcal{N}(0, I)$ — the reparameterization "
    "trick — so it wobbles with the seed; raise $L$ and the ± shrinks like $1/\\sqrt{L}$. The KL term needs no "
    "sampling: for two Gaussians it is $\\tfrac12 \\sum_j (\\mu_j^2 + \\sigma_j^2 - 1 - \\log \\sigma_j^2)$. "
    "Their difference is the ELBO. The **gap** to the exact $\\log p_\\theta(x)$ is exactly "
    "$D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p_\\theta(z \\mid x))$: how far the encoder's Gaussian (rings) is from the "
    "true posterior (grey shade). It has two parts: even the best diagonal Gaussian $q^*$ for this digit (white ring) "
    "misses a bent or multi-peaked posterior by the **approximation gap**, and the encoder, one network for every "
    "digit, lands short of $q^*$ by the **amortization gap**; where that is tens of nats, $q_\\phi$ sits beside the "
    "posterior's mass. The IWAE bound averages $K$ importance weights inside the log; on average it is never below the "
    "ELBO nor above $\\log p_\\theta(x)$, and climbs towards $\\log p_\\theta(x)$ as $K$ grows, unless $q_\\phi$ misses "
    "the mass. It is a bound *on average*: one $K$-sample estimate wobbles by its ± and may land a little above the "
    f"exact value, which the quadrature computes to within {tol:g} nats. ")
    if "iwae_gap" not in metrics:
        reading += f"For this model the IWAE bound's gap over the test digits is {NOT_EVALUATED}."
    elif metrics.get("refit_command"):
        reading += (
        "This model's encoder was refitted with the KL the other way round as well, "
        "$D_{KL}(p_\\theta(z \\mid x) \\,\\|\\, q_\\phi(z \\mid x))$, computed from the exact posterior: that direction "
        "makes $q_\\phi$ cover every mode, so the ELBO is a few nats looser and IWAE comes close to "
        f"$\\log p_\\theta(x)$: {metrics['iwae_gap']:.2f} nats below it on average over the 10,000 test digits with K = {metrics['K']}. "
        "Not for every digit: where the encoder still sits beside the posterior's mass (test digit #35 is one), "
        "the amortization gap is tens of nats and no $K$ closes it.")
    else:
        reading += (f"For this model IWAE with K = {metrics['K']} is {metrics['iwae_gap']:.2f} nats below $\\log p_\\theta(x)$ "
                    f"on average over the {metrics['digits']:,} test digits.")
    if beta != 1:
        objective = "the reconstruction term alone" if beta == 0 else f"reconstruction − {beta:g} × KL"
        reading += (f"\n\n**This model was not trained on the ELBO** but on {objective}. Its ELBO and its exact "
                    "$\\log p_\\theta(x)$ are defined all the same, and are what this tab shows: how good a density "
                    "model of the digits it turned out to be, by the bound it did not maximise.")
    return reading


def posterior_text(post: dict | None, note: str = "") -> str:
    """q(z|x) as the Reconstruct tab shows it: the mean and standard deviation, as numbers, and how far
    the posterior's peak (the map's marker) lies from the mean, in sigmas of q; after what was done with
    a doubtful picture, if anything."""
    if not post:
        return ""
    (m1, m2), (s1, s2), (p1, p2) = post["mu"], post["sigma"], post["mode"]
    if s1 and s2:
        apart = f"{math.hypot((p1 - m1) / s1, (p2 - m2) / s2):.1f}σ"
    else:  # a sigma below 0.00005 (beta = 0) rounds to 0: the distance in z instead
        apart = f"{math.hypot(p1 - m1, p2 - m2):.4f}"
    said = f"**Note:** {note}\n\n" if note else ""
    return said + (f"$q_\\phi(z \\mid x)$: mean $\\mu$ = ({m1:.3f}, {m2:.3f}), standard deviation $\\sigma$ = "
                   f"({s1:.4f}, {s2:.4f}); the posterior's peak (the marker) lies {apart} from $\\mu$")


def nats(value: float) -> str:
    return f"{value:.2f}"


def elbo_table(t: dict, tol: float) -> str:
    """The ELBO tab's numbers panel for the terms of vae.anatomy.elbo_anatomy: each term beside the equation
    it estimates; tol is the quadrature's accuracy in nats."""
    se = "" if t["L"] == 1 else f" ± {t['reconstruction_stderr']:.2f}"
    iwae_se = "" if t["K"] == 1 else f" ± {t['iwae_stderr']:.2f}"
    return f"""
| term | equation | nats |
|---|---|---:|
| reconstruction | $\\frac{{1}}{{L}}\\sum_{{l=1}}^{{L}} \\log p_\\theta(x \\mid \\mu + \\sigma \\odot \\epsilon^{{(l)}})$, L = {t['L']} | **{nats(t['reconstruction'])}**{se} |
| KL (closed form) | $D_{{KL}}(q_\\phi(z \\mid x) \\,\\|\\, p(z))$ | **{nats(t['kl'])}** |
| ELBO | $\\mathcal{{L}} = \\text{{reconstruction}} - \\text{{KL}}$ | **{nats(t['elbo'])}** |
| IWAE estimate (a bound on average) | $\\log \\frac{{1}}{{K}} \\sum_{{k=1}}^{{K}} \\frac{{p_\\theta(x, z_k)}}{{q_\\phi(z_k \\mid x)}}$, K = {t['K']} | **{nats(t['iwae'])}**{iwae_se} |
| exact log-likelihood | $\\log p_\\theta(x) = \\log \\int p_\\theta(x \\mid z)\\, p(z)\\, dz$ (quadrature, to {tol:g} nats) | **{nats(t['log_px'])}** |
| gap | $\\log p_\\theta(x) - \\mathcal{{L}} = D_{{KL}}(q_\\phi(z \\mid x) \\,\\|\\, p_\\theta(z \\mid x))$ | **{nats(t['gap'])}** |
| … approximation gap | $D_{{KL}}(q^* \\,\\|\\, p_\\theta(z \\mid x))$, $q^*$ the best diagonal Gaussian for this digit | {nats(t['approximation_gap'])} |
| … amortization gap | $\\mathcal{{L}}(q^*) - \\mathcal{{L}}(q_\\phi)$: what the encoder loses against $q^*$ | {nats(t['amortization_gap'])} |

$q_\\phi(z \\mid x) = \\mathcal{{N}}(\\mu, \\mathrm{{diag}}\\,\\sigma^2)$ with $\\mu$ = ({t['mu'][0]:.3f}, {t['mu'][1]:.3f}), $\\sigma$ = ({t['sigma'][0]:.3f}, {t['sigma'][1]:.3f});
$q^*$: $\\mu$ = ({t['best_mu'][0]:.3f}, {t['best_mu'][1]:.3f}), $\\sigma$ = ({t['best_sigma'][0]:.3f}, {t['best_sigma'][1]:.3f}).
"""


# ---------------------------------------------------------------- the Story (explorer/story.py)

STORY_INTRO = ("**The idea behind this page, step by step.** Each step makes one claim, shows it on the real model with "
               "a figure you can move, and gives the formula for those who want it. Pick a step, or press *next*.")
# Each step: its title (the step picker's label), then its words and formula above the figure.
STORY = [
    ("A generative model",
     "A VAE makes a digit in two moves: pick a point $z$ at random from a bell-shaped cloud around zero (the **prior**), "
     "then let a neural network, the **decoder**, turn those two numbers into a picture. Each numbered point on the map "
     "became the digit with its number."
     "$$z \\sim p(z) = \\mathcal{N}(0, I), \\qquad x \\sim p_\\theta(x \\mid z)$$"),
    ("The likelihood",
     "How well does the model explain a real digit? Add up, over every point of the plane, the chance of picking that point "
     "times the chance that it draws exactly this digit: that total is the **likelihood** $p(x)$, summed here on a fine grid "
     "(the shaded patch is where the terms count)."
     "$$p_\\theta(x) = \\int p_\\theta(x \\mid z)\\, p(z)\\, dz$$"
     "With 2 numbers a point, a grid of 100 steps a side has 10,000 points; with 20 numbers it would have $100^{20}$, "
     "more than any computer can add up. The rest of the story is how VAEs do without it."),
    ("Jensen's inequality",
     "Instead of the whole plane, try $K$ points drawn where the digit probably came from, each weighted by "
     "$w_k = p(x, z_k) / q(z_k \\mid x)$. Because the logarithm bends, **the mean of the logs (the ELBO) never exceeds the log "
     "of the mean (the IWAE estimate)**, and with more points the second climbs to $\\log p(x)$."
     "$$\\frac{1}{K}\\sum_k \\log w_k \\;\\le\\; \\log \\frac{1}{K}\\sum_k w_k \\;\\xrightarrow{K \\to \\infty}\\; \\log p_\\theta(x)$$"),
    ("The recognition model",
     "A second network, the **encoder**, guesses where a digit came from: an oval $q_\\phi(z \\mid x)$ (the rings), over where "
     "it really came from (grey). The ELBO falls short of $\\log p(x)$ by exactly how far the oval is from the grey patch; "
     "switch to the best oval there is, to see how much of that is the oval's shape and how much the encoder's guess."
     "$$\\log p_\\theta(x) - \\mathrm{ELBO} = D_{KL}\\big(q_\\phi(z \\mid x) \\,\\|\\, p_\\theta(z \\mid x)\\big) \\ge 0$$"),
    ("The reparameterization trick",
     "To train the encoder we need the slope of the ELBO with respect to its $\\mu$ and $\\sigma$, and a random draw hides it. "
     "The trick draws the randomness $\\epsilon$ first and computes $z = \\mu + \\sigma \\epsilon$, so $z$ moves smoothly with "
     "$\\mu$ and $\\sigma$ and the slope flows back through it: drag $\\epsilon$ and watch every value."
     "$$z = \\mu + \\sigma \\odot \\epsilon,\\quad \\epsilon \\sim \\mathcal{N}(0, I)$$ so that "
     "$$\\nabla_{\\mu,\\sigma}\\, \\mathbb{E}_q[\\log p_\\theta(x \\mid z)] = \\mathbb{E}_\\epsilon[\\nabla_{\\mu,\\sigma} \\log p_\\theta(x \\mid \\mu + \\sigma \\odot \\epsilon)]$$"),
    ("The Monte-Carlo estimate",
     "The ELBO's first term, how well the decoder redraws the digit from points near $\\mu$, is estimated from $L$ random "
     "points. Each estimate is a little off, and four times as many points make it half as far off."
     "$$\\mathbb{E}_q[\\log p_\\theta(x \\mid z)] \\approx \\frac{1}{L}\\sum_{l=1}^{L} \\log p_\\theta(x \\mid z_l), "
     "\\qquad \\text{spread} \\propto 1/\\sqrt{L}$$"),
    ("Training",
     "Training (auto-encoding variational Bayes) repeats one move: encode a batch of training digits, draw $z$ with the "
     "trick, decode, and nudge both networks up the ELBO's slope. Press play to watch the test digits find their places "
     "and the bound improve, pass after pass."
     "$$\\max_{\\theta, \\phi}\\; \\sum_x \\Big( \\mathbb{E}_{q_\\phi}[\\log p_\\theta(x \\mid z)] - D_{KL}(q_\\phi \\,\\|\\, p) \\Big)$$"),
    ("What the KL term does",
     "The ELBO's second term pulls every digit's oval towards the prior's cloud. Weighed 0, digits spread anywhere and "
     "random points land in empty space; weighed 5, they crowd the centre and blur: the same networks, trained three ways."
     "$$\\mathbb{E}_q[\\log p_\\theta(x \\mid z)] - \\beta\\, D_{KL}\\big(q_\\phi(z \\mid x) \\,\\|\\, p(z)\\big)$$"),
    ("Why two dimensions",
     "Two numbers can be drawn as a map and summed over exactly, which is why this page uses them. With 20 numbers the same "
     "networks redraw digits far better (rows: the digits, the 2-D model's, the 20-D model's), but then only bounds such as "
     "IWAE's are left: no grid covers 20 dimensions."),
]

STORY_Q = {"encoder": "the encoder's oval q", "best": "the best oval q* for this digit"}


def story_likelihood(log_px: float, binarized: dict) -> str:
    """Step 2's numbers, and what the nats are a probability of."""
    return (f"For this digit the sum is $\\log p_\\theta(x)$ = **{log_px:.2f}** nats (natural-log units): the model gives "
            f"it a probability of about $10^{{{log_px / math.log(10):.0f}}}$, tiny because there are so many possible pictures.\n\n"
            "**What that is a probability of.** The model scores each pixel as a coin flip, black or white, with the grey "
            "level standing in for the chance of white. Grey pictures are not coin flips, so on grey digits these nats compare "
            "models scored the same way (as pytorch/examples and Keras score theirs) but are not the probability of a picture. "
            "Trained and tested on digits made black and white, the same networks give a true log-probability: "
            f"$-\\log p(x)$ = {binarized['neg_log_px']:.2f} nats on the black-and-white test digits, by this same sum "
            f"(their ELBO: {binarized['neg_elbo']:.2f}).")


def story_jensen(K: int, mean_log: float, log_mean: float, log_px: float) -> str:
    return (f"With K = {K}: mean of the logs (ELBO estimate) **{mean_log:.2f}**, log of the mean (IWAE) **{log_mean:.2f}**, "
            f"Jensen's gap between them **{log_mean - mean_log:.2f}** nats; the exact $\\log p_\\theta(x)$ is **{log_px:.2f}**.")


def story_recognition(t: dict, which: str) -> str:
    if which == "encoder":
        said = (f"The encoder's oval: ELBO **{nats(t['elbo'])}**, $\\log p_\\theta(x)$ **{nats(t['log_px'])}**, so "
                f"$D_{{KL}}(q \\,\\|\\, p(z \\mid x))$ = gap = **{nats(t['gap'])}** nats.")
    else:
        said = (f"The best oval: $D_{{KL}}(q^* \\,\\|\\, p(z \\mid x))$ = **{nats(t['approximation_gap'])}** nats (the approximation gap); "
                f"the encoder loses **{nats(t['amortization_gap'])}** more (the amortization gap).")
    return said + f" Of the whole gap of {nats(t['gap'])} nats, {nats(t['approximation_gap'])} is the oval's shape, " \
                  f"{nats(t['amortization_gap'])} the encoder's guess."


def story_graph(mu: list, sigma: list, eps: list, z: list, log_px_z: float, digit: str, decoded: str) -> str:
    """Step 5's graph, as HTML: each box a value, left to right as the computation runs."""
    def pair(v):
        return f"({v[0]:.3f}, {v[1]:.3f})"

    def box(name, value, cls=""):
        return f'<div class="vae-node {cls}"><b>{name}</b><span>{value}</span></div>'

    arrow = '<div class="vae-arrow" aria-hidden="true">→</div>'
    return ('<div class="vae-graph" role="group" aria-label="the reparameterization trick, step by step">'
            f'<div class="vae-inputs">{box("x", f"<img src={digit!r} alt=the digit>")}'
            f'{box("μ = encoder mean", pair(mu))}{box("σ = encoder width", pair(sigma))}{box("ε ~ N(0, I)", pair(eps), "vae-eps")}</div>'
            f'{arrow}{box("z = μ + σ·ε", pair(z))}{arrow}'
            f'{box("decoder(z)", f"<img src={decoded!r} alt=the digit decoded at z>")}{arrow}'
            f'{box("log p(x | z)", f"{log_px_z:.2f} nats")}</div>'
            '<pre class="vae-code"><code>eps = torch.randn_like(mu)          # the randomness, drawn first\n'
            'z = mu + std * eps                 # reparameterize: z follows mu and std smoothly\n'
            'log_px_z = log_bernoulli(x, decoder(z))\n'
            'log_px_z.backward()                # slopes reach mu and std through z</code></pre>')


def story_variances(v, samples: int) -> str:
    def size(x: float) -> str:
        return f"{x:,.0f}" if x >= 10 else f"{x:.3g}"

    return f"""Measured now for this digit, over {samples:,} draws of $\\epsilon$: how much one sample's estimate of the slope
of $\\mathbb{{E}}_q[\\log p_\\theta(x \\mid z)]$ varies.

| estimator | variance, μ | variance, σ |
|---|---:|---:|
| the trick | {size(v.reparameterized_mu)} | {size(v.reparameterized_sigma)} |
| score function | {size(v.score_mu)} | {size(v.score_sigma)} |

The score function (REINFORCE) needs only the value of $\\log p(x \\mid z)$, not its slope. It is as right on average, but
its variance is **{v.score_mu / v.reparameterized_mu:,.0f}×** larger for μ and **{v.score_sigma / v.reparameterized_sigma:,.0f}×**
for σ: one sample with the trick is worth that many of its samples. This is why the trick matters."""


def story_monte_carlo(L: int, sigma1: float, repeats: int, measured_at: list[int]) -> str:
    return (f"One sample strays by $\\sigma_1$ = **{sigma1:.2f}** nats. With L = {L} samples, $\\sigma_1/\\sqrt{{L}}$ = "
            f"**{sigma1 / math.sqrt(L):.2f}** nats (blue); orange is measured, the spread of {repeats} estimates at L = "
            f"{', '.join(map(str, measured_at))}.")


def story_beta(facts: dict) -> str:
    legible = (f"; a digit classifier is {facts['prior_confidence']:.0%} sure of its prior samples, on average"
               if "prior_confidence" in facts else "")
    return (f"β = {facts['beta']:g}: reconstruction term {-facts['reconstruction_nll']:.1f}, KL {facts['kl']:.1f}, "
            f"−ELBO {facts['neg_elbo']:.1f} nats per test digit{legible}.")


def story_wide(bounds: list[float], log_px: float, K: int, facts: dict, wide: dict) -> str:
    two, twenty = bounds

    def per_digit(key: str) -> str:  # the 2-D model's test-set figure, where vae.evaluate measured it
        return f"{facts[key]:.1f}" if key in facts else NOT_EVALUATED

    return (f"This digit: 2-D model IWAE (K = {K}) **{two:.2f}**, exact $\\log p(x)$ **{log_px:.2f}**; 20-D model IWAE "
            f"**{twenty:.2f}**, and no exact value. Over the 10,000 test digits, $-$ELBO: 2-D {per_digit('neg_elbo')}, "
            f"20-D {wide['neg_elbo']:.1f}; $-$IWAE: 2-D {per_digit('neg_iwae')}, 20-D {wide['neg_iwae']:.1f}; "
            f"$-\\log p(x)$: 2-D {per_digit('neg_log_px')}, 20-D unknown.")
