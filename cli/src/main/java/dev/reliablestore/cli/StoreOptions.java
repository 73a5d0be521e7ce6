package dev.reliablestore.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options naming one store and its keys; mixed into every command that works on a store. */
final class StoreOptions {

    @Option(names = "--store", paramLabel = "STORE", defaultValue = "${env:RELIABLESTORE_STORE}",
            description = "The store: embedded:<dir>, zookeeper://host:port[,host:port…]/<chroot>, clusapi://<cluster> "
                    + "(cluster-registry provider) or file:<dir> (file provider). Default: $RELIABLESTORE_STORE.")
    String store;

    @Option(names = "--resource-group", paramLabel = "NAME",
            description = "Cluster-registry resource group (first segment of the storage root). Default: "
                    + StoreSpec.DEFAULT_RESOURCE_GROUP + ".")
    String resourceGroup;

    @Option(names = "--key-path", paramLabel = "PATH",
            description = "Cluster-registry key path below the resource group. Default: Software\\\\ReliableStore\\\\Data.")
    String keyPath;

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

    @Option(names = "--key-store-type", paramLabel = "TYPE", defaultValue = "BCFKS",
            description = "BCFKS or PKCS12. Default: ${DEFAULT-VALUE}.")
    String keyStoreType;

    @Option(names = "--key-alias", paramLabel = "ALIAS",
            description = "The key store alias of the active key. Default: the newest key.")
    String keyAlias;

    @Option(names = "--no-compression", negatable = false,
            description = "Cluster stores: write new values without zstd compression (reading is unaffected).")
    boolean noCompression;

    @Mixin
    RegistryOptions registry = new RegistryOptions();

    StoreSpec spec() {
        return new StoreSpec(StoreLocation.parse(store), resourceGroup, keyPath,
                new KeySpec(passphraseEnv, passphraseFile, previousPassphraseEnv, previousPassphraseFile, keyStore,
                        keyStorePasswordEnv, keyStoreType, keyAlias),
                !noCompression, registry.resolved());
    }
}
