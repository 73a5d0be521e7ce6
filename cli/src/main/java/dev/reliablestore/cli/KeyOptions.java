package dev.reliablestore.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where an encrypted store's keys come from ({@link KeySpec}): environment variables and files, never the command line. */
final class KeyOptions {

    @Option(names = "--passphrase-env", paramLabel = "VAR",
            description = "Encrypted store: read the current passphrase from environment variable VAR.")
    String passphraseEnv;

    @Option(names = "--passphrase-file", paramLabel = "FILE",
            description = "Encrypted store: read the current passphrase from FILE.")
    Path passphraseFile;

    @Option(names = "--previous-passphrase-env", paramLabel = "VAR",
            description = "An older passphrase still needed to read values written before a rotation (repeatable).")
    List<String> previousPassphraseEnv = new ArrayList<>();

    @Option(names = "--previous-passphrase-file", paramLabel = "FILE",
            description = "An older passphrase, from a file (repeatable).")
    List<Path> previousPassphraseFile = new ArrayList<>();

    @Option(names = "--key-store", paramLabel = "FILE",
            description = "Encrypted store: AES-256 keys from this BCFKS/PKCS#12 key store (old and new keys).")
    Path keyStore;

    @Option(names = "--key-store-password-env", paramLabel = "VAR",
            description = "The key store's password, from environment variable VAR.")
    String keyStorePasswordEnv;

    @Option(names = "--key-store-type", paramLabel = "TYPE",
            description = "BCFKS or PKCS12. Default: BCFKS.")
    String keyStoreType;

    @Option(names = "--key-alias", paramLabel = "ALIAS",
            description = "The key store alias of the active key. Default: the newest AES key (a key store without one needs it).")
    String keyAlias;

    KeySpec spec() {
        return new KeySpec(passphraseEnv, passphraseFile, previousPassphraseEnv, previousPassphraseFile, keyStore, keyStorePasswordEnv,
                keyStoreType, keyAlias, "");
    }
}
