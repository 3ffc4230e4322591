package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which trainable variable went to which curvature block: the Kronecker-factored layers and the
 * variables left to the diagonal fallback, each with the reason. {@link #log()} prints the table
 * users check after a K-FAC build.
 *
 * @param layers the Kronecker-factored layers, in graph order
 * @param diagonal the variables with a diagonal block, mapped to why they are not in a layer block
 */
public record Registration(List<RegisteredLayer> layers, Map<String, String> diagonal) {

  /** Copies. */
  public Registration {
    layers = List.copyOf(layers);
    diagonal = Collections.unmodifiableMap(new LinkedHashMap<>(diagonal));
  }

  /** One line per variable: {@code variable -> block (details)}. */
  public List<String> log() {
    List<String> out = new ArrayList<>();
    for (RegisteredLayer l : layers) {
      String dims = "A " + l.inputDim() + "x" + l.inputDim() + ", G " + l.outputDim() + "x"
          + l.outputDim() + (l.kind() == RegisteredLayer.Kind.CONV2D
              ? ", T " + l.locations() : "");
      out.add(l.kernelVariable() + " -> " + l.kind().name().toLowerCase() + " block of "
          + l.node() + " (" + dims + ")");
      if (l.hasBias()) {
        out.add(l.biasVariable() + " -> " + l.kind().name().toLowerCase() + " block of "
            + l.node() + " (homogeneous coordinate)");
      }
    }
    diagonal.forEach((v, why) -> out.add(v + " -> diagonal block (" + why + ")"));
    return out;
  }
}
