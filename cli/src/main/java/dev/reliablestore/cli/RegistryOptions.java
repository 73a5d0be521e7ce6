package dev.reliablestore.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Registry backend options, with secrets taken from the environment or a file so they never show in the process list. */
final class RegistryOptions {

    @Option(names = "--registry-option", paramLabel = "KEY=VALUE",
            description = "An option for the registry backend, e.g. sessionTimeout=10s for ZooKeeper (repeatable). "
                    + "Secrets (digest=user:password) belong in --registry-secret-env or --registry-secret-file.")
    Map<String, String> registryOptions = new LinkedHashMap<>();

    @Option(names = "--registry-secret-env", paramLabel = "KEY=VAR",
            description = "A secret registry option read from environment variable VAR, so it never shows in the process list, "
                    + "e.g. digest=ZK_DIGEST for ZooKeeper credentials user:password (repeatable).")
    Map<String, String> registrySecretEnv = new LinkedHashMap<>();

    @Option(names = "--registry-secret-file", paramLabel = "KEY=FILE",
            description = "A secret registry option read from FILE (its content, trailing line breaks dropped), e.g. digest=/etc/rs/zk-digest (repeatable).")
    Map<String, Path> registrySecretFile = new LinkedHashMap<>();

    /**
     * The registry options, the secret ones as references ({@code env:VAR}, {@code file:PATH}) that the
     * backend resolves: a secret never travels on the command line, and is never echoed.
     */
    Map<String, String> resolved() {
        Map<String, String> all = new LinkedHashMap<>(registryOptions);
        for (Map.Entry<String, String> e : registrySecretEnv.entrySet()) {
            put(all, e.getKey(), "env:" + e.getValue(), "--registry-secret-env");
        }
        for (Map.Entry<String, Path> e : registrySecretFile.entrySet()) {
            put(all, e.getKey(), "file:" + e.getValue(), "--registry-secret-file");
        }
        return all;
    }

    private static void put(Map<String, String> all, String key, String value, String option) {
        if (all.putIfAbsent(key, value) != null) {
            throw CliException.usage("registry option " + key + " is given twice (" + option + " and another --registry-option or secret)");
        }
    }
}
