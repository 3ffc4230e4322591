package dev.dks.savedmodels.keras;

import static dev.dks.savedmodels.keras.KerasFixture.cfg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.ModelReaders;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras HDF5 files that name other files (untrusted models, issue 17), generated here from a
 * jhdf-written model by {@link H5Hostile}: an external link to a file outside the model's folder
 * (and the same with the target absent), an external link to a symlink in the folder that leads
 * out of it, an external link to a file inside the folder, and a dataset stored in an external
 * file outside the folder. Each read ends with dks's own {@link ModelFormatException} naming the
 * file, the HDF5 object and (for a link) where its file resolves, from the walk that runs before
 * any weight is read (jhdf would otherwise open the linked file, or stop with its own
 * HdfException for the external storage, which it cannot read).
 * Nothing outside is read: the outside file holds valid weights of the right shape, so a read
 * that followed the link would have succeeded. Controls: the unmodified model reads, and jhdf
 * itself follows the generated link to the outside file's values (so the link is real).
 */
class H5UntrustedPathsTest {
  @TempDir Path tmp;
  private Path folder;
  private Path secret;
  private static final float[] SECRET = {7f, 8f, 9f};

  @BeforeEach
  void files() throws Exception {
    folder = Files.createDirectories(tmp.resolve("model"));
    secret = tmp.resolve("secret.h5");
    try (WritableHdfFile w = HdfFile.write(secret)) {
      w.putDataset("stolen", SECRET.clone());
    }
  }

  /** input 4x4x2, Conv2D "conv" (3 filters: bias [3]), Flatten. */
  private Path model(String name) throws Exception {
    KerasFixture f = new KerasFixture(1, false, null);
    f.input("in", 4, 4, 2);
    f.weight("conv", "kernel", 3, 3, 2, 3);
    f.weight("conv", "bias", 3);
    f.layer("Conv2D", "conv", cfg("filters", 3, "kernel_size", List.of(3, 3), "padding",
        "same"), "in");
    f.layer("Flatten", "flat", cfg(), "conv");
    f.outputs("flat");
    return f.writeH5(folder.resolve(name));
  }

  private static final String LAYER = "model_weights/conv/conv";

  private static ModelFormatException refused(Path h5, String... words) {
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> ModelReaders.read(h5));
    assertTrue(e.getMessage().startsWith(h5.toString()), e.getMessage());
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' not in: " + e.getMessage());
    }
    assertTrue(!e.getMessage().contains("jHDF") && !e.getMessage().contains("Hdf"),
        "jhdf's own error: " + e.getMessage());
    return e;
  }

  @Test
  void anExternalLinkOutOfTheFolderIsRefusedBeforeItIsFollowed() throws Exception {
    Path clean = model("clean.h5");
    Model m = ModelReaders.read(clean); // control: the model as written reads
    assertEquals(2, m.variables().size(), m.variables().keySet().toString());
    Path h5 = model("linked.h5");
    H5Hostile.externalLink(h5, LAYER, "bias:0", "../secret.h5", "/stolen");
    try (HdfFile f = new HdfFile(h5)) { // control: jhdf follows the link to the secret
      Dataset d = (Dataset) f.getByPath(LAYER + "/bias:0");
      assertArrayEquals(SECRET, (float[]) d.getData());
    }
    refused(h5, "/model_weights/conv/conv/bias:0", "external link", "../secret.h5",
        "outside the model's folder");
    Files.delete(secret); // following the link now would fail in jhdf: still dks's refusal
    refused(h5, "/model_weights/conv/conv/bias:0", "external link", "../secret.h5");
  }

  @Test
  void anExternalLinkThroughASymlinkOutOfTheFolderIsRefused() throws Exception {
    Files.createSymbolicLink(folder.resolve("inner.h5"), secret);
    Path h5 = model("symlinked.h5");
    H5Hostile.externalLink(h5, LAYER, "bias:0", "inner.h5", "/stolen");
    refused(h5, "bias:0", "external link", "inner.h5", "outside the model's folder");
  }

  @Test
  void anExternalLinkInsideTheFolderIsRefusedToo() throws Exception {
    Path inner = folder.resolve("inner.h5");
    Files.copy(secret, inner);
    Path h5 = model("inside.h5");
    H5Hostile.externalLink(h5, LAYER, "bias:0", "inner.h5", "/stolen");
    refused(h5, "bias:0", "external link", "inner.h5", "inside the model's folder");
  }

  @Test
  void aDatasetStoredInAnExternalFileIsRefused() throws Exception {
    Path bin = tmp.resolve("secret.bin");
    Files.write(bin, new byte[12]);
    Path h5 = model("external.h5");
    H5Hostile.externalStorage(h5, LAYER + "/bias:0", "../secret.bin", 12);
    refused(h5, "/model_weights/conv/conv/bias:0", "external file");
  }
}
