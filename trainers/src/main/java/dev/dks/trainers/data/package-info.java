/**
 * Data sets for training: readers for MNIST / Fashion-MNIST IDX files ({@link
 * dev.dks.trainers.data.IdxReader}), the sklearn 8x8 digits CSV ({@link
 * dev.dks.trainers.data.DigitsCsv}), folders of images ({@link dev.dks.trainers.data.ImageFolder})
 * and a seeded synthetic task ({@link dev.dks.trainers.data.SyntheticTask}); the in-memory {@link
 * dev.dks.trainers.data.Dataset} (NHWC float32, row-major) with split, scaling and
 * standardization; and the seeded, resumable {@link dev.dks.trainers.data.BatchIterator}.
 * {@link dev.dks.trainers.data.DataSets#load} resolves names and paths against the data cache
 * that {@code scripts/fetch-assets.sh} fills.
 *
 * <p>Layout everywhere: images are one {@code float[]} of shape {@code [n, h, w, c]} in
 * row-major order, i.e. element {@code (i, y, x, ch)} is at {@code ((i * h + y) * w + x) * c +
 * ch}; labels are {@code int[n]} class indices in {@code 0..classes-1}.
 */
package dev.dks.trainers.data;
