package dev.dks.cli;

/**
 * Marks a subcommand that loads no TensorFlow natives ({@code dks solve}, {@code dks
 * activations}): {@code dks} installs no TF log filter for it, and the {@code ./dks} launcher
 * starts it lean (see its comments).
 */
interface NoTensorFlow {}
