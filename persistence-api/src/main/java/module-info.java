/**
 * ReliableStore's API, the provider SPI and the default entity codec. Providers are found with
 * {@link java.util.ServiceLoader} by their stable names.
 */
module dev.reliablestore.api {
    requires transitive com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.datatype.jsr310;
    requires com.fasterxml.jackson.datatype.jdk8;
    requires com.fasterxml.jackson.module.paramnames;
    requires java.sql; // java.sql.Timestamp and java.sql.Date, written exactly by the default codec

    exports dev.reliablestore.api;
    exports dev.reliablestore.codec;
    exports dev.reliablestore.spi;
    exports dev.reliablestore.spi.tx;

    uses dev.reliablestore.spi.PersistenceProvider;
}
