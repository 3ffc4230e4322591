package dev.dks.savedmodels.keras;

import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.AbstractNode;
import io.jhdf.ObjectHeader;
import io.jhdf.api.Group;
import io.jhdf.api.Link;
import io.jhdf.api.Node;
import io.jhdf.exceptions.HdfException;
import io.jhdf.links.ExternalLink;
import io.jhdf.object.message.LinkMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Keeps a Keras HDF5 read inside its file (untrusted models, issue 17). Before any weight is read
 * the whole tree is walked, without resolving a link, and two kinds of object that name other
 * files are refused with a {@link ModelFormatException} naming the HDF5 object:
 *
 * <ul>
 *   <li>an <b>external link</b> (jhdf would open the file it names): the message says where its
 *       file resolves (jhdf's rule: an absolute name as is, else beside the .h5 file; then
 *       {@code ..} and symbolic links resolved) and whether that lies inside or outside the
 *       model's folder. Both are refused: a Keras model is one file, and a linked file would
 *       need every check of this class and of {@link H5Bounds} again;
 *   <li>a dataset with <b>external storage</b> (an HDF5 External Data Files message: its bytes
 *       live in other files; jhdf cannot read them and stops with its own error when it meets the
 *       message while listing a group): refused naming the dataset when its group lists its
 *       links in its header, else the group.
 * </ul>
 *
 * Soft links (inside the file) are left alone and not descended into.
 */
final class H5Links {
  private H5Links() {}

  /** Refuses {@code root}'s tree when it holds an external link or external storage. */
  static void requireNoExternalLinks(Group root) {
    check(root.getPath(), children(root), 0);
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
            + x.getTargetPath() + "'" + whereItResolves(x) + ": a model may not name other "
            + "files; dks reads a Keras model from its one .h5 file");
      }
      if (n instanceof Link) {
        continue;
      }
      if (n instanceof Group g) {
        check(at, children(g), depth + 1);
      }
    }
  }

  /** The group's children, or a refusal when one of them keeps its data in external files. */
  private static Map<String, Node> children(Group g) {
    try {
      return g.getChildren();
    } catch (HdfException e) {
      if (!isExternalStorage(e)) {
        throw e;
      }
      throw new ModelFormatException("the HDF5 dataset " + externalChild(g) + " keeps its data "
          + "in an external file (an HDF5 External Data Files message): a model may not name "
          + "other files; dks reads a Keras model's weights from its one .h5 file");
    }
  }

  private static boolean isExternalStorage(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("External Data Files")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The path of {@code g}'s child whose object header holds the External Data Files message,
   * found through the hard links of {@code g}'s header (compact link storage); else the group's
   * own path followed by {@code /...}.
   */
  private static String externalChild(Group g) {
    String base = g.getPath().endsWith("/") ? g.getPath() : g.getPath() + "/";
    if (g instanceof AbstractNode node) {
      try {
        for (LinkMessage m : node.getHeader().getMessagesOfType(LinkMessage.class)) {
          if (m.getLinkType() != LinkMessage.LinkType.HARD) {
            continue;
          }
          try {
            ObjectHeader.readObjectHeader(g.getHdfFile().getHdfBackingStorage(),
                m.getHardLinkAddress());
          } catch (RuntimeException e) {
            if (isExternalStorage(e)) {
              return base + m.getLinkName();
            }
          }
        }
      } catch (RuntimeException e) {
        // fall back to the group's path
      }
    }
    return base + "... (a dataset of the group " + g.getPath() + ")";
  }

  /**
   * Where jhdf would open the link's file (absolute as is, else beside the .h5 file), with
   * {@code ..} and symbolic links resolved, and whether that lies in the model's folder.
   */
  private static String whereItResolves(ExternalLink x) {
    String tp = x.getTargetPath();
    int split = tp.indexOf(":/");
    String name = split >= 0 ? tp.substring(0, split) : tp.substring(0, Math.max(0,
        tp.lastIndexOf(':')));
    try {
      Path h5 = x.getParent().getFileAsPath().toAbsolutePath();
      Path folder = h5.getParent().toRealPath();
      Path target = Path.of(name).isAbsolute() ? Path.of(name) : h5.getParent().resolve(name);
      target = Files.exists(target) ? target.toRealPath() : target.normalize();
      return " (" + target + ", " + (target.startsWith(folder) ? "inside" : "outside")
          + " the model's folder " + folder + ")";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
