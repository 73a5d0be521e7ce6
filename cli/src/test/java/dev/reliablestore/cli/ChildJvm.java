package dev.reliablestore.cli;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * How {@link CliProcess} starts the tool's JVMs. Each process test starts dozens of them, and most of a command's
 * CPU time is loading and verifying some 3,000 classes. So, once per test JVM, the test class path is laid out
 * as the shipped {@code reliablestore.jar} is (classes in jars, the Bouncy Castle jars without their signatures,
 * which the shade plugin filters out of it too: verifying a signed jar costs a command about 0.1 s), and
 * {@link ChildJvmTraining} runs the common commands once to record an application class-data sharing archive
 * ({@code -XX:ArchiveClassesAtExit}) that every later process maps instead of loading those classes again:
 * a quarter to a third less CPU per command, for a few seconds once. The processes run the same classes; should any of this fail, they
 * run on the test class path as it is, without the archive.
 */
final class ChildJvm {

    /** The options every process gets: it is short-lived, so no optimising compiler; small heap, serial GC. */
    private static final List<String> BASE_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m");

    private static ChildJvm prepared;

    final String classPath;
    final List<String> options;

    private ChildJvm(String classPath, List<String> options) {
        this.classPath = classPath;
        this.options = options;
    }

    /** {@code java <options> -cp <class path> <main>}. */
    List<String> command(Class<?> main) {
        List<String> command = new ArrayList<>();
        command.add(CliProcess.javaBin());
        command.addAll(options);
        command.addAll(List.of("-cp", classPath, main.getName()));
        return command;
    }

    static synchronized ChildJvm get() {
        if (prepared == null) {
            prepared = prepare();
        }
        return prepared;
    }

    private static ChildJvm prepare() {
        ChildJvm plain = new ChildJvm(CliProcess.classPath(), BASE_OPTIONS);
        Process training = null;
        try {
            Path dir = Files.createTempDirectory("cli-processes"); // java.io.tmpdir: the module's target directory
            deleteOnExit(dir);
            String jars = asJars(CliProcess.classPath(), dir);
            Path archive = dir.resolve("cli.jsa");
            Path work = Files.createDirectory(dir.resolve("training"));
            List<String> command = new ArrayList<>(List.of(CliProcess.javaBin()));
            command.addAll(BASE_OPTIONS);
            command.addAll(List.of("-XX:ArchiveClassesAtExit=" + archive, "-cp", jars, ChildJvmTraining.class.getName(), work.toString()));
            ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().remove("RELIABLESTORE_STORE");
            training = pb.start();
            training.getOutputStream().close();
            if (!training.waitFor(120, TimeUnit.SECONDS)) {
                throw new IOException("the training run did not finish within 120 s");
            }
            if (training.exitValue() != 0 || !Files.isRegularFile(archive)) {
                throw new IOException("the training run exited with " + training.exitValue() + " and wrote "
                        + (Files.isRegularFile(archive) ? "an" : "no") + " archive");
            }
            List<String> options = new ArrayList<>(BASE_OPTIONS);
            // -Xlog:cds*=off: an archive the JVM cannot use (it checks the class path and the jars' sizes and times)
            // is skipped with a warning on standard output, which would end up in the tool's output
            options.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds*=off"));
            return new ChildJvm(jars, List.copyOf(options));
        } catch (IOException | RuntimeException e) {
            System.err.println("CliProcess: the tool's processes run without a class-data sharing archive: " + e);
            return plain;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return plain;
        } finally {
            if (training != null && training.isAlive()) {
                training.destroyForcibly();
            }
        }
    }

    /** {@code classPath} with directories packed into jars and signed jars copied without their signatures. */
    private static String asJars(String classPath, Path dir) throws IOException {
        List<String> jars = new ArrayList<>();
        int n = 0;
        for (String entry : classPath.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path path = Path.of(entry);
            n++;
            if (Files.isDirectory(path)) {
                Path jar = dir.resolve(n + "-" + path.getFileName() + ".jar");
                pack(path, jar);
                jars.add(jar.toString());
            } else if (Files.isRegularFile(path) && signed(path)) {
                Path jar = dir.resolve(n + "-" + path.getFileName());
                Files.copy(path, jar, StandardCopyOption.COPY_ATTRIBUTES);
                try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + jar.toUri()), Map.of())) {
                    for (String name : signatureFiles(path)) {
                        Files.delete(zip.getPath(name));
                    }
                }
                jars.add(jar.toString());
            } else if (Files.exists(path)) {
                jars.add(entry);
            }
        }
        return String.join(File.pathSeparator, jars);
    }

    private static void pack(Path classes, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String name = classes.relativize(f).toString().replace(File.separatorChar, '/');
                if (name.isEmpty()) {
                    continue;
                }
                if (Files.isDirectory(f)) {
                    out.putNextEntry(new JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(f, out);
                }
                out.closeEntry();
            }
        }
    }

    private static boolean signed(Path jar) throws IOException {
        return !signatureFiles(jar).isEmpty();
    }

    /** The signature files the shade plugin's filter (cli/pom.xml) leaves out of reliablestore.jar. */
    private static List<String> signatureFiles(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName)
                    .filter(name -> name.matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)")).toList();
        }
    }

    private static void deleteOnExit(Path dir) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException | UncheckedIOException e) {
                // left in the build directory
            }
        }, "cli-processes-cleanup"));
    }
}
