/**
 * Keras model readers: Keras HDF5 files and TensorFlow.js layers models ({@code model.json} +
 * shards) built into a TF1 inference graph at NodeDef level. Entry point: {@link
 * dev.dks.savedmodels.keras.KerasModelReader}.
 */
package dev.dks.savedmodels.keras;
