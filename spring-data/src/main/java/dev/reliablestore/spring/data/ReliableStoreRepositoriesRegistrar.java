package dev.reliablestore.spring.data;

import java.lang.annotation.Annotation;

import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.data.keyvalue.repository.config.KeyValueRepositoryConfigurationExtension;
import org.springframework.data.repository.config.RepositoryBeanDefinitionRegistrarSupport;
import org.springframework.data.repository.config.RepositoryConfigurationExtension;
import org.springframework.data.repository.config.RepositoryConfigurationSource;

/** Registers the repositories of {@link EnableReliableStoreRepositories} and, when missing, the template they use. */
final class ReliableStoreRepositoriesRegistrar extends RepositoryBeanDefinitionRegistrarSupport {

    @Override
    protected Class<? extends Annotation> getAnnotation() {
        return EnableReliableStoreRepositories.class;
    }

    @Override
    protected RepositoryConfigurationExtension getExtension() {
        return new Extension();
    }

    static final class Extension extends KeyValueRepositoryConfigurationExtension {

        @Override
        public String getModuleName() {
            return "ReliableStore";
        }

        @Override
        protected String getModulePrefix() {
            return "reliablestore";
        }

        @Override
        protected String getDefaultKeyValueTemplateRef() {
            return ReliableStoreKeyValue.TEMPLATE_BEAN;
        }

        /** {@code ReliableStoreKeyValue.template(StoreFactory)} with the context's StoreFactory. */
        @Override
        protected AbstractBeanDefinition getDefaultKeyValueTemplateBeanDefinition(RepositoryConfigurationSource configurationSource) {
            RootBeanDefinition template = new RootBeanDefinition(ReliableStoreKeyValue.class);
            template.setFactoryMethodName("template");
            template.setAutowireMode(AbstractBeanDefinition.AUTOWIRE_CONSTRUCTOR);
            template.setSource(configurationSource.getSource());
            return template;
        }
    }
}
