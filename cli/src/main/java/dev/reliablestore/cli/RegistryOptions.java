package dev.reliablestore.cli;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.RegistryArgumentException;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Registry backend options, with secrets taken from the environment or a file so they never show in the process list. */
final class RegistryOptions {

    @Option(names = "--registry-option", paramLabel = "KEY=VALUE",
            description = "An option for the registry backend, e.g. sessionTimeout=10s for ZooKeeper (repeatable). "
                    + "Secrets (digest, *Password) are refused here: they belong in --registry-secret-env or --registry-secret-file.")
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
        return resolve("", registryOptions, registrySecretEnv, registrySecretFile);
    }

    /**
     * {@link #resolved()} for options given as {@code --<prefix>registry-option},
     * {@code --<prefix>registry-secret-env} and {@code --<prefix>registry-secret-file} (e.g. one side of
     * {@code migrate}).
     */
    static Map<String, String> resolve(String prefix, Map<String, String> options, Map<String, String> secretEnv,
                                       Map<String, Path> secretFile) {
        String option = "--" + prefix + "registry-option";
        options.forEach((key, value) -> refuseSecretLiteral(key, value, option, prefix));
        Map<String, String> all = new LinkedHashMap<>(options);
        for (Map.Entry<String, String> e : secretEnv.entrySet()) {
            put(all, e.getKey(), "env:" + e.getValue(), "--" + prefix + "registry-secret-env", option);
        }
        for (Map.Entry<String, Path> e : secretFile.entrySet()) {
            put(all, e.getKey(), "file:" + e.getValue(), "--" + prefix + "registry-secret-file", option);
        }
        return all;
    }

    /**
     * A secret's value on the command line shows in the process list and the shell history: only a
     * reference ({@code env:VAR}, {@code file:PATH}) is accepted there. Secret keys are named as the
     * backends name them: {@code digest}, and any key containing {@code password} (TLS store passwords).
     */
    static void refuseSecretLiteral(String key, String value, String where) {
        refuseSecretLiteral(key, value, where, "");
    }

    private static void refuseSecretLiteral(String key, String value, String where, String prefix) {
        if (isSecret(key) && !value.startsWith("env:") && !value.startsWith("file:")) {
            throw CliException.usage("registry option " + key + " is a secret and its value must not be on the command line (" + where
                    + "; the process list and shell history show it): use --" + prefix + "registry-secret-env " + key + "=VAR or --"
                    + prefix + "registry-secret-file " + key + "=FILE");
        }
    }

    /** {@link #refuseSecretLiteral} for every option in the query of a registry URI given as {@code where}. */
    static void refuseSecretLiterals(String uri, String where) {
        if (uri.indexOf('?') < 0) {
            return; // nothing to look at (an embedded site's path need not be a valid URI here)
        }
        Map<String, String> query;
        try {
            query = ClusterRegistries.queryOptions(new java.net.URI(uri));
        } catch (java.net.URISyntaxException | RegistryArgumentException malformed) {
            throw CliException.usage("the registry URI " + ClusterRegistries.redact(uri) + " (" + where + ") is malformed: "
                    + ClusterRegistries.redact(malformed.getMessage()));
        }
        query.forEach((key, value) -> refuseSecretLiteral(key, value, where));
    }

    static boolean isSecret(String key) {
        return ClusterRegistries.isSecretOption(key);
    }

    private static void put(Map<String, String> all, String key, String value, String option, String plainOption) {
        if (all.putIfAbsent(key, value) != null) {
            throw CliException.usage("registry option " + key + " is given twice (" + option + " and another " + plainOption + " or secret)");
        }
    }
}
