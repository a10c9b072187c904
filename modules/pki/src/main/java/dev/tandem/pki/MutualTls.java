package dev.tandem.pki;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS contexts for node-to-node links: present the node certificate, trust only the cluster CA,
 * and say clearly in the log when a peer is refused (a JSSE handshake failure alone names no culprit).
 */
public final class MutualTls {
    private static final Logger LOG = LoggerFactory.getLogger(MutualTls.class);

    private MutualTls() {}

    public static SSLContext context(NodeCredentials credentials) throws GeneralSecurityException {
        try {
            char[] password = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("node", credentials.key(), password,
                    new X509Certificate[] {credentials.certificate(), credentials.ca()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);

            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("cluster-ca", credentials.ca());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
            X509ExtendedTrustManager clusterOnly = (X509ExtendedTrustManager) tmf.getTrustManagers()[0];

            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(kmf.getKeyManagers(), new TrustManager[] {new Logging(clusterOnly, credentials.ca())}, new SecureRandom());
            return context;
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** Delegates every check and logs a refusal with the peer's subject and issuer. */
    private static final class Logging extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final X509Certificate ca;

        Logging(X509ExtendedTrustManager delegate, X509Certificate ca) {
            this.delegate = delegate;
            this.ca = ca;
        }

        private interface Check {
            void run() throws CertificateException;
        }

        private void checked(X509Certificate[] chain, Object where, Check check) throws CertificateException {
            try {
                check.run();
            } catch (CertificateException e) {
                X509Certificate peer = chain == null || chain.length == 0 ? null : chain[0];
                LOG.warn("refused control-plane peer {}: certificate \"{}\" issued by \"{}\" is not signed by this cluster's CA \"{}\" ({})",
                        where, peer == null ? "none" : peer.getSubjectX500Principal().getName(),
                        peer == null ? "-" : peer.getIssuerX500Principal().getName(),
                        ca.getSubjectX500Principal().getName(), e.getMessage());
                throw e;
            }
        }

        private static Object remote(Socket socket) {
            return socket == null ? "(unknown address)" : socket.getRemoteSocketAddress();
        }

        private static Object remote(SSLEngine engine) {
            return engine == null ? "(unknown address)" : engine.getPeerHost() + ":" + engine.getPeerPort();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checked(chain, remote(socket), () -> delegate.checkClientTrusted(chain, authType, socket));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checked(chain, remote(socket), () -> delegate.checkServerTrusted(chain, authType, socket));
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            checked(chain, remote(engine), () -> delegate.checkClientTrusted(chain, authType, engine));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            checked(chain, remote(engine), () -> delegate.checkServerTrusted(chain, authType, engine));
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            checked(chain, "(unknown address)", () -> delegate.checkClientTrusted(chain, authType));
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            checked(chain, "(unknown address)", () -> delegate.checkServerTrusted(chain, authType));
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
