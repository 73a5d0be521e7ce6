package dev.reliablestore.spring.data;

import java.lang.annotation.Annotation;

import org.springframework.boot.autoconfigure.data.AbstractRepositoryConfigurationSourceSupport;
import org.springframework.data.repository.config.RepositoryConfigurationExtension;

/** What {@code @EnableReliableStoreRepositories} on the application class would register, with Boot's packages. */
final class AutoConfiguredRepositoriesRegistrar extends AbstractRepositoryConfigurationSourceSupport {

    @Override
    protected Class<? extends Annotation> getAnnotation() {
        return EnableReliableStoreRepositories.class;
    }

    @Override
    protected Class<?> getConfiguration() {
        return Defaults.class;
    }

    @Override
    protected RepositoryConfigurationExtension getRepositoryConfigurationExtension() {
        return new ReliableStoreRepositoriesRegistrar.Extension();
    }

    /** Only read for its annotation's attributes (the defaults); never a bean. */
    @EnableReliableStoreRepositories
    private static final class Defaults {
    }
}
