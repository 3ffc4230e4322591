/**
 * The "fill-defaults" pass: gives every node the op registry's default values for the attributes
 * it omits, so that later matchers can read them (SavedModels written with stripped default
 * attributes omit, for instance, {@code is_training=true} on training-form batch norms).
 */
package dev.dks.rewriter.passes.defaults;
