package dev.reliablestore.it.architecture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The application of docs/architecture.md ("Using ReliableStore from a named module"), compiled
 * from the page as written, run on the module path in a child JVM laid out as the page says:
 * ReliableStore's jars and the modular libraries on the module path, the rest on the class path.
 */
class ModulePathApplicationTest {

    /** ReliableStore modules the application needs at run time (the API, the provider, the registry, their options model). */
    private static final List<String> OURS = List.of("options", "persistence-api", "cluster-registry-provider", "cluster-native");
    /** The modular libraries the page puts on the module path (by their Maven group's directory). */
    private static final List<String> MODULAR_LIBRARIES = List.of("/com/fasterxml/jackson/", "/org/slf4j/", "/com/github/ben-manes/caffeine/",
            "/org/bouncycastle/");
    /** Test tooling on the test class path that the application must not see. */
    private static final List<String> TEST_ONLY = List.of("/org/junit/", "/org/assertj/", "/org/opentest4j/", "/org/apiguardian/",
            "/net/bytebuddy/", "/org/awaitility/", "/org/hamcrest/", "/com/tngtech/", "/surefire", "/test-classes", "-tests.jar", "/it-tests/");

    @TempDir
    Path dir;

    @Test
    void theDocumentedModuleCompilesAndRunsOnTheModulePath() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "architecture.md"));
        String section = page.substring(page.indexOf("### Using ReliableStore from a named module"), page.indexOf("## A save"));
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(section);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertThat(blocks).as("module-info and Main in docs/architecture.md").hasSize(2);
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("com/example/orders"));
        Files.writeString(src.resolve("module-info.java"), blocks.get(0));
        Files.writeString(src.resolve("com/example/orders/Main.java"), blocks.get(1));

        List<String> modulePath = new ArrayList<>();
        List<String> classPath = new ArrayList<>();
        for (String entry : testClassPath().split(File.pathSeparator)) {
            String e = entry.replace('\\', '/');
            if (entry.isBlank() || TEST_ONLY.stream().anyMatch(e::contains)) {
                continue;
            }
            boolean ours = OURS.stream().anyMatch(a -> e.contains("/" + a + "/target/"));
            if (ours) {
                // automatic modules must be jars; the reactor's verify packages them before it-tests
                assertThat(entry).as("ReliableStore module as a jar (run with mvn verify)").endsWith(".jar");
                modulePath.add(entry);
            } else if (e.contains("/dev/reliablestore/")) {
                continue; // other ReliableStore modules (tx, basic-providers): not part of this application
            } else if (MODULAR_LIBRARIES.stream().anyMatch(e::contains) && entry.endsWith(".jar") && isExplicitModule(Path.of(entry))) {
                modulePath.add(entry);
            } else {
                classPath.add(entry);
            }
        }
        assertThat(modulePath).as("the three ReliableStore jars").filteredOn(p -> p.contains("reliablestore") || OURS.stream().anyMatch(p::contains))
                .hasSizeGreaterThanOrEqualTo(3);

        Path classes = dir.resolve("classes");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        // an explicit class path: javac in this JVM would otherwise take the test's
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "--module-path", String.join(File.pathSeparator, modulePath),
                "--class-path", String.join(File.pathSeparator, classPath),
                "-Xlint:all,-requires-automatic", "-Werror"));
        args.add(src.resolve("module-info.java").toString());
        args.add(src.resolve("com/example/orders/Main.java").toString());
        int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
        assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();

        modulePath.add(0, classes.toString());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--module-path", String.join(File.pathSeparator, modulePath), "--add-modules", "ALL-MODULE-PATH",
                "--class-path", String.join(File.pathSeparator, classPath),
                "-m", "com.example.orders/com.example.orders.Main", dir.resolve("data").toString())
                .redirectErrorStream(true).start();
        try {
            boolean exited = p.waitFor(120, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(exited).as(out).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("saved o-1 at version 1: Order[customer=Acme, cents=4200]");
        } finally {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static String testClassPath() {
        // surefire passes the real class path here; java.class.path may be a manifest-only jar
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    private static boolean isExplicitModule(Path jar) throws IOException {
        try (JarFile f = new JarFile(jar.toFile(), false, JarFile.OPEN_READ, Runtime.version())) {
            return f.getJarEntry("module-info.class") != null;
        }
    }
}
