/**
 * The shaping recorded in a SavedModel: how its activations were shaped (method, targets, solved
 * parameters per activation and site, shortcut weight, PLN, structure depth, tool version), kept
 * in {@code assets.extra/dks-shaping.json} inside the SavedModel folder, where TensorFlow's
 * loaders and TF Serving do not look. {@link dev.dks.savedmodels.shaping.ShapingMetadata} is the
 * record and documents the JSON schema; {@link dev.dks.savedmodels.shaping.ShapingMetadataFiles}
 * reads and locates it; {@link dev.dks.savedmodels.shaping.ShapingRecorder} builds it for a model
 * that was just shaped.
 */
package dev.dks.savedmodels.shaping;
