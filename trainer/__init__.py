"""The bundled VAE-GAN trainer: LDM's AutoencoderKL with RadioDiff's loss and loop, small enough for a CPU.

Needs torch (``pip install torch==2.13.0`` for the CPU build); the analyzer never imports it.
"""
