import java.nio.charset.StandardCharsets;
import org.edgeformer.GenerateParams;
import org.edgeformer.Model;
import org.edgeformer.Session;

/**
 * Generates a continuation of a prompt with edgeformer's JVM binding, printing each token's text
 * as it comes (a piece may be part of a UTF-8 character: the bytes go straight to stdout).
 *
 *   java -Dedgeformer.library=build/java/libedgeformer_jni.so \
 *        -cp build/java/edgeformer.jar:build/java/edgeformer-example.jar Generate MODEL "Once upon a time" [MAX_TOKENS]
 */
public final class Generate {
  public static void main(String[] args) {
    int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    try (Model model = Model.load(args[0]); Session session = model.newSession()) {
      System.out.print(args[1]);
      System.out.flush();
      session.generate(args[1], new GenerateParams().maxTokens(maxTokens).temperature(0), (token, piece) -> {
        System.out.write(piece, 0, piece.length);
        System.out.flush();
        return true;
      });
      System.out.println();
    }
  }
}
