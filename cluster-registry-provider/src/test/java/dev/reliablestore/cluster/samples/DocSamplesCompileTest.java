package dev.reliablestore.cluster.samples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compiles, as the pages show them, the Java blocks of README.md and docs/ that no other test keeps
 * (those are kept in test sources and compared with their page). A page marks such a block with
 * {@code <!-- compiled: id -->} on the line before its {@code ```java} fence; the block is compiled
 * inside the wrapper {@link #SAMPLES} gives for that id (the imports a reader adds, and stand-ins for
 * the types the sample assumes, such as its entity class) against this module's test class path
 * (the provider, cluster-native and its conformance suite, persistence-api), with the build's
 * {@code -Xlint:all -Werror}. Compiling is all: the samples name servers and directories of their own.
 */
class DocSamplesCompileTest {

    /** Where the sample goes in its wrapper. */
    private static final String HERE = "//SAMPLE\n";

    /** A marked block: its page (from the repository root) and the compilation unit it is compiled in. */
    private record Sample(String page, String wrapper) {
    }

    private static final Map<String, Sample> SAMPLES = Map.of(
            "conformance-template", new Sample("docs/registry-contract.md", """
                    import dev.reliablestore.registry.ClusterRegistries;
                    import dev.reliablestore.registry.ClusterRegistry;
                    import dev.reliablestore.registry.conformance.ClusterRegistryConformance;

                    import java.util.UUID;

                    //SAMPLE
                    """),
            "provider-open", new Sample("docs/cluster-registry-provider.md", """
                    import dev.reliablestore.api.EntityStore;
                    import dev.reliablestore.api.Persistence;
                    import dev.reliablestore.api.StoreFactory;
                    import dev.reliablestore.cluster.ClusterPersistenceStore;
                    import org.slf4j.Logger;
                    import org.slf4j.LoggerFactory;

                    import java.util.Map;

                    class Sample {
                        enum Tier { PREMIUM, ENTERPRISE }

                        record Customer(String name, Tier tier) {
                        }

                        private static final Logger log = LoggerFactory.getLogger(Sample.class);

                        void run() {
                    //SAMPLE
                        }
                    }
                    """),
            "provider-hooks", new Sample("docs/cluster-registry-provider.md", """
                    import dev.reliablestore.api.StoreFactory;
                    import dev.reliablestore.cluster.ClusterHooks;
                    import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
                    import dev.reliablestore.cluster.ClusterPersistenceProvider;

                    import java.util.Optional;
                    import java.util.concurrent.atomic.AtomicBoolean;

                    class Sample {
                        void run() {
                    //SAMPLE
                        }
                    }
                    """),
            "embedded-open", new Sample("docs/embedded-backend.md", """
                    import dev.reliablestore.registry.ClusterRegistries;
                    import dev.reliablestore.registry.ClusterRegistry;
                    import dev.reliablestore.registry.RegistryPath;
                    import dev.reliablestore.registry.RegistryValue;
                    import dev.reliablestore.registry.WriteBatch;

                    import java.util.Map;

                    class Sample {
                        void run() {
                    //SAMPLE
                        }
                    }
                    """));

    private static final Pattern MARKER = Pattern.compile("<!-- compiled: ([a-z0-9-]+) -->");

    @TempDir
    Path dir;

    static Stream<String> samples() {
        return SAMPLES.keySet().stream().sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theMarkedBlockCompilesAsThePageShowsIt(String id) throws IOException {
        Sample sample = SAMPLES.get(id);
        String page = Files.readString(root().resolve(sample.page()));
        String marker = "<!-- compiled: " + id + " -->\n";
        int at = page.indexOf(marker);
        assertThat(at).as("%s marks a block with %s", sample.page(), marker.strip()).isNotNegative();
        assertThat(page.indexOf(marker, at + 1)).as("%s marked once in %s", id, sample.page()).isNegative();
        String fence = "```java\n";
        assertThat(page.startsWith(fence, at + marker.length())).as("a ```java fence right after %s", marker.strip()).isTrue();
        int from = at + marker.length() + fence.length();
        int to = page.indexOf("\n```\n", from);
        assertThat(to).as("the end of the block marked %s", id).isPositive();
        String block = page.substring(from, to + 1);
        int firstPageLine = (int) page.substring(0, from).chars().filter(c -> c == '\n').count() + 1;

        assertThat(sample.wrapper()).contains(HERE);
        int firstSourceLine = (int) sample.wrapper().substring(0, sample.wrapper().indexOf(HERE)).chars().filter(c -> c == '\n').count() + 1;
        Path source = dir.resolve("src").resolve("Sample.java"); // the samples' classes are not public
        Files.createDirectories(source.getParent());
        Files.writeString(source, sample.wrapper().replace(HERE, block));

        List<String> problems = compile(source, dir.resolve("classes"), line -> line >= firstSourceLine && line < firstSourceLine + block.lines().count()
                ? sample.page() + ":" + (firstPageLine + line - firstSourceLine)
                : "wrapper of " + id + ", line " + line);
        assertThat(problems).as("javac on the block marked %s in %s", id, sample.page()).isEmpty();
    }

    @Test
    void everyMarkedBlockHasAWrapper() throws IOException {
        Map<String, List<String>> marked = new TreeMap<>();
        List<Path> pages = new ArrayList<>(List.of(root().resolve("README.md")));
        try (Stream<Path> docs = Files.list(root().resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        for (Path page : pages) {
            Matcher m = MARKER.matcher(Files.readString(page));
            while (m.find()) {
                marked.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(root().relativize(page).toString().replace('\\', '/'));
            }
        }
        assertThat(marked).as("<!-- compiled: id --> markers in README.md and docs/")
                .isEqualTo(SAMPLES.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> List.of(e.getValue().page()))));
    }

    /** Errors and warnings of javac, each with the page line it is on (by {@code where}); empty when the source compiles clean. */
    private static List<String> compile(Path source, Path classes, IntFunction<String> where) throws IOException {
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            // the build's flags (the parent pom's maven-compiler-plugin); an explicit class path, or javac would take this JVM's
            List<String> options = List.of("--release", "17", "-Xlint:all,-processing,-serial,-classfile", "-Werror", "-proc:none",
                    "-d", classes.toString(), "--class-path", testClassPath());
            boolean ok = javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjects(source)).call();
            List<String> problems = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() != Diagnostic.Kind.NOTE || !ok) {
                    problems.add((d.getLineNumber() > 0 ? where.apply((int) d.getLineNumber()) + ": " : "")
                            + d.getKind().toString().toLowerCase(Locale.ROOT) + ": " + d.getMessage(Locale.ROOT));
                }
            }
            if (!ok && problems.isEmpty()) {
                problems.add("javac failed without a diagnostic");
            }
            return problems;
        }
    }

    /** The repository root: tests run in the module's directory. */
    private static Path root() {
        return Path.of("..");
    }

    private static String testClassPath() {
        // surefire passes the real class path here; java.class.path may be a manifest-only jar
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }
}
