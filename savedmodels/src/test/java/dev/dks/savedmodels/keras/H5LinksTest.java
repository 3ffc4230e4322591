package dev.dks.savedmodels.keras;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.WritableGroup;
import io.jhdf.links.ExternalLink;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link H5Links}: a real HDF5 tree written with jhdf passes; the same tree with an external link
 * (as jhdf represents one when it reads a file that has it) among a layer's children is refused,
 * naming the link's path and target, before any weight is read. jhdf cannot write external links,
 * so the link is the reader's own object placed in the walked children.
 */
class H5LinksTest {
  @TempDir
  Path tmp;

  @Test
  void anExternalLinkAnywhereInTheTreeIsRefused() throws Exception {
    Path h5 = tmp.resolve("w.h5");
    try (WritableHdfFile w = HdfFile.write(h5)) {
      WritableGroup layer = w.putGroup("model_weights").putGroup("dense");
      layer.putDataset("kernel", new float[] {1f, 2f, 3f});
    }
    try (HdfFile f = new HdfFile(h5)) {
      H5Links.requireNoExternalLinks(f); // control: an ordinary tree passes
      Group dense = (Group) f.getByPath("model_weights/dense");
      Map<String, Node> children = new LinkedHashMap<>(dense.getChildren());
      children.put("bias", new ExternalLink("../secret.h5", "/stolen", "bias", dense));
      ModelFormatException e = assertThrows(ModelFormatException.class,
          () -> H5Links.check(dense.getPath(), children, 0));
      assertTrue(e.getMessage().contains("/model_weights/dense/bias"), e.getMessage());
      assertTrue(e.getMessage().contains("external link"), e.getMessage());
      assertTrue(e.getMessage().contains("secret.h5"), e.getMessage());
    }
  }
}
