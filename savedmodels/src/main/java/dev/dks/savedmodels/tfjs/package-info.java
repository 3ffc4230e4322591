/**
 * TensorFlow.js models: {@link dev.dks.savedmodels.tfjs.TfjsGraphModelReader} reads a graph model
 * ({@code model.json} + binary shards) into the rewriter's {@link dev.dks.rewriter.model.Model};
 * {@link dev.dks.savedmodels.tfjs.TfjsWeights} reads (and dequantizes) the weights of any TF.js
 * model; {@link dev.dks.savedmodels.tfjs.SplitPreluPass} replaces the TF.js-only {@code Prelu}.
 */
package dev.dks.savedmodels.tfjs;
