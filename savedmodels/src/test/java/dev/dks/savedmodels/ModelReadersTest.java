package dev.dks.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ModelReaders}: the format is chosen from the path, and refusals name the formats. */
class ModelReadersTest {
  @TempDir Path tmp;

  private static String refusal(Path p) {
    return assertThrows(ModelFormatException.class, () -> ModelReaders.read(p)).getMessage();
  }

  @Test
  void formatsFromThePath() throws IOException {
    Path sm = Files.createDirectories(tmp.resolve("sm"));
    Files.write(sm.resolve("saved_model.pb"), new byte[0]);
    assertEquals(ModelReaders.Format.SAVED_MODEL, ModelReaders.formatOf(sm));
    assertEquals(ModelReaders.Format.SAVED_MODEL, ModelReaders.formatOf(
        sm.resolve("saved_model.pb")));
    Path pb = Files.write(tmp.resolve("frozen.pb"), new byte[0]);
    assertEquals(ModelReaders.Format.FROZEN_GRAPH, ModelReaders.formatOf(pb));
  }

  @Test
  void refusalsNameThePathAndTheAcceptedFormats() throws IOException {
    String m = refusal(tmp.resolve("missing"));
    assertTrue(m.contains("missing") && m.contains("does not exist")
        && m.contains(ModelReaders.ACCEPTED), m);

    Path folder = Files.createDirectories(tmp.resolve("plain"));
    m = refusal(folder);
    assertTrue(m.contains(folder.toString()) && m.contains("not a SavedModel"), m);

    Path tfjs = Files.createDirectories(tmp.resolve("tfjs"));
    Files.writeString(tfjs.resolve("model.json"), "{}");
    m = refusal(tfjs);
    assertTrue(m.contains("TensorFlow.js graph model nor a layers model"), m);

    m = refusal(Files.writeString(tmp.resolve("model.json"), "{}"));
    assertTrue(m.contains("model.json") && m.contains("layers model"), m);

    Path h5 = Files.writeString(tmp.resolve("weights.h5"), "x");
    assertEquals(ModelReaders.Format.KERAS_H5, ModelReaders.formatOf(h5));
    m = assertThrows(ModelFormatException.class, () -> ModelReaders.read(h5)).getMessage();
    assertTrue(m.contains("weights.h5"), m);

    m = refusal(Files.writeString(tmp.resolve("model.keras"), "x"));
    assertTrue(m.contains("Keras v3") && m.contains("not supported yet"), m);

    m = refusal(Files.writeString(tmp.resolve("notes.txt"), "x"));
    assertTrue(m.contains("notes.txt") && m.contains(ModelReaders.ACCEPTED), m);
  }

  @Test
  void savedModelFolderGoesToTheSavedModelReader() {
    Path dir = TestAssets.sharedModel("tfserving_half_plus_two_cpu");
    ModelReaders.Loaded l = ModelReaders.readDetailed(dir);
    assertEquals(ModelReaders.Format.SAVED_MODEL, l.format());
    assertEquals(SavedModelReader.read(dir).graph(), l.model().graph());
    assertEquals(l.model().graph(), ModelReaders.read(dir.resolve("saved_model.pb")).graph());
  }
}
