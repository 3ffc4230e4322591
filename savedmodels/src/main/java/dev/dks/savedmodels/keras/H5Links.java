package dev.dks.savedmodels.keras;

import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.api.Group;
import io.jhdf.api.Link;
import io.jhdf.api.Node;
import io.jhdf.links.ExternalLink;
import java.util.Map;

/**
 * Keeps a Keras HDF5 read inside its file (untrusted models, issue 17): jhdf follows an HDF5
 * external link by opening the file it names, so before any weight is read the whole tree is
 * walked, without resolving a link, and an external link anywhere is refused, naming the link and
 * its target. Soft links (inside the file) are left alone and not descended into.
 */
final class H5Links {
  private H5Links() {}

  /** Refuses {@code root}'s tree when it holds an external link. */
  static void requireNoExternalLinks(Group root) {
    check(root.getPath(), root.getChildren(), 0);
  }

  /** Walks {@code children} (of the group at {@code path}); depth-limited against cycles. */
  static void check(String path, Map<String, Node> children, int depth) {
    if (depth > 64) {
      throw new ModelFormatException("the HDF5 groups nest deeper than 64 at " + path);
    }
    for (Map.Entry<String, Node> e : children.entrySet()) {
      Node n = e.getValue();
      String at = (path.endsWith("/") ? path : path + "/") + e.getKey();
      if (n instanceof ExternalLink x) {
        throw new ModelFormatException("the HDF5 object " + at + " is an external link to '"
            + x.getTargetPath() + "': a model may not name files outside itself");
      }
      if (n instanceof Link) {
        continue;
      }
      if (n instanceof Group g) {
        check(at, g.getChildren(), depth + 1);
      }
    }
  }
}
