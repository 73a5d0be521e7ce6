package dev.reliablestore.cli;

import dev.reliablestore.cluster.crypto.KeySource;
import dev.reliablestore.cluster.crypto.KeySources;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Where an encrypted store's keys come from. Key material is never taken from the command line:
 * passphrases come from environment variables or files, a key store's password from an
 * environment variable. Nothing read here is ever printed.
 *
 * @param passphraseEnv        environment variable holding the current passphrase
 * @param passphraseFile       file holding the current passphrase (surrounding whitespace stripped)
 * @param previousEnv          environment variables holding older passphrases still needed to read
 * @param previousFiles        files holding older passphrases
 * @param keyStore             a BCFKS/PKCS#12 key store of AES-256 keys
 * @param keyStorePasswordEnv  environment variable holding the key store's password
 * @param keyStoreType         BCFKS or PKCS12
 * @param keyAlias             the key store alias of the active key (default: the newest)
 * @param optionPrefix         what the command's options of this store start with after "--" ("", "from-", "to-"): usage errors name them
 */
record KeySpec(String passphraseEnv, Path passphraseFile, List<String> previousEnv, List<Path> previousFiles,
               Path keyStore, String keyStorePasswordEnv, String keyStoreType, String keyAlias, String optionPrefix) {

    static final KeySpec NONE = new KeySpec(null, null, List.of(), List.of(), null, null, null, null, "");

    KeySpec {
        previousEnv = previousEnv == null ? List.of() : List.copyOf(previousEnv);
        previousFiles = previousFiles == null ? List.of() : List.copyOf(previousFiles);
        optionPrefix = optionPrefix == null ? "" : optionPrefix;
    }

    /**
     * Whether any key option was given (which switches encryption on). A key store's password, type or
     * alias counts: given without the key store they are a usage error, never a plaintext write.
     */
    boolean present() {
        return passphraseEnv != null || passphraseFile != null || keyStore != null || keyStorePasswordEnv != null
                || keyStoreType != null || keyAlias != null || !previousEnv.isEmpty() || !previousFiles.isEmpty();
    }

    /** The key source, or empty when no key option was given. */
    Optional<KeySource> keySource() {
        String prefix = optionPrefix;
        if (!present()) {
            return Optional.empty();
        }
        boolean passphrase = passphraseEnv != null || passphraseFile != null;
        if (keyStore != null) {
            if (passphrase || !previousEnv.isEmpty() || !previousFiles.isEmpty()) {
                throw CliException.usage("--" + prefix + "key-store cannot be combined with passphrase options; "
                        + "a key store holds old and new keys itself");
            }
            if (keyStorePasswordEnv == null) {
                throw CliException.usage("--" + prefix + "key-store needs --" + prefix + "key-store-password-env VAR "
                        + "(the password is read from that environment variable)");
            }
            char[] password = fromEnv(keyStorePasswordEnv, "--" + prefix + "key-store-password-env");
            try {
                return Optional.of(KeySources.keyStore(keyStore, keyStoreType == null ? "BCFKS" : keyStoreType, password, keyAlias));
            } finally {
                Arrays.fill(password, '\0');
            }
        }
        if (keyStorePasswordEnv != null || keyStoreType != null || keyAlias != null) {
            throw CliException.usage("--" + prefix + (keyStorePasswordEnv != null ? "key-store-password-env"
                            : keyStoreType != null ? "key-store-type" : "key-alias")
                    + " belongs to a key store: give the key store with --" + prefix + "key-store FILE");
        }
        if (passphraseEnv != null && passphraseFile != null) {
            throw CliException.usage("give the current passphrase once: --" + prefix + "passphrase-env or --" + prefix
                    + "passphrase-file, not both");
        }
        if (!passphrase) {
            throw CliException.usage("previous passphrases were given without the current one (--" + prefix
                    + "passphrase-env VAR or --" + prefix + "passphrase-file FILE)");
        }
        List<char[]> all = new ArrayList<>();
        all.add(passphraseEnv != null ? fromEnv(passphraseEnv, "--" + prefix + "passphrase-env")
                : fromFile(passphraseFile, "--" + prefix + "passphrase-file"));
        for (String env : previousEnv) {
            all.add(fromEnv(env, "--" + prefix + "previous-passphrase-env"));
        }
        for (Path file : previousFiles) {
            all.add(fromFile(file, "--" + prefix + "previous-passphrase-file"));
        }
        try {
            return Optional.of(KeySources.passphrase(all));
        } finally {
            all.forEach(p -> Arrays.fill(p, '\0'));
        }
    }

    /** Where the current key comes from, for people (never the key itself). */
    String describe() {
        if (keyStore != null) {
            return "key store " + keyStore + (keyAlias == null ? "" : " (alias " + keyAlias + ")");
        }
        if (passphraseEnv != null) {
            return "passphrase from environment variable " + passphraseEnv;
        }
        return passphraseFile == null ? "no key" : "passphrase from file " + passphraseFile;
    }

    private static char[] fromEnv(String name, String option) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw CliException.usage(option + " " + name + ": that environment variable is not set or empty");
        }
        return value.toCharArray();
    }

    private static char[] fromFile(Path file, String option) {
        String value;
        try {
            // as the file: secret form reads it (trailing line breaks dropped, nothing else), or the key would differ
            value = Files.readString(file, StandardCharsets.UTF_8).replaceAll("[\\r\\n]+$", "");
        } catch (IOException e) {
            throw CliException.usage(option + " " + file + ": cannot read that file (" + e.getClass().getSimpleName() + ")");
        }
        if (value.isEmpty()) {
            throw CliException.usage(option + " " + file + ": that file is empty");
        }
        return value.toCharArray();
    }
}
