"""A private MariaDB and a private Apache (mod_php) for the WordPress test site.

Both run as children of the test process with their own config, data dir, socket and
pid, so the machine's own services (a default Apache site on port 80, a system
MariaDB) are neither needed nor disturbed, and stopping one for an outage is exact.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

WORDPRESS = Path("/usr/share/wordpress")
THEMES = WORDPRESS / "wp-content" / "themes"
LANGUAGES = WORDPRESS / "wp-content" / "languages"
MODULES = Path("/usr/lib/apache2/modules")
# Debian's wp-config.php reads /etc/wordpress/config-$WORDPRESS_CONFIG.php.
CONFIG_NAME = "fondstest"
CONFIG_FILE = Path("/etc/wordpress") / f"config-{CONFIG_NAME}.php"


def missing_packages() -> list[str]:
    """What is absent for the site to run here (empty: everything is installed)."""
    needs = {
        "wordpress": WORDPRESS / "wp-load.php",
        "mariadb-server": Path("/usr/sbin/mariadbd"),
        "apache2": Path("/usr/sbin/apache2"),
        "libapache2-mod-php": next(MODULES.glob("libphp*.so"), MODULES / "libphp.so"),
        "php-cli": Path("/usr/bin/php"),
        "wordpress-theme-twentytwentythree": THEMES / "twentytwentythree",
        "wordpress-theme-twentytwentyone": THEMES / "twentytwentyone",
    }
    absent = [name for name, path in needs.items() if not path.exists()]
    if Path("/usr/bin/php").exists():
        modules = subprocess.run(["php", "-m"], capture_output=True, text=True).stdout
        for module, package in (("mysqli", "php-mysql"), ("SimpleXML", "php-xml")):
            if module not in modules.split():
                absent.append(package)
    return absent


def wait_for(check, what: str, limit_s: float = 60.0) -> None:
    """Poll `check()` until it is true; a server that never comes up is an error."""
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {limit_s:.0f} s")
        time.sleep(0.1)


class Child:
    """A server run as our child process, in its own session; stopped with SIGTERM."""

    process: subprocess.Popen[bytes] | None = None
    STOP_TIMEOUT_S = 60.0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), waited for."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=self.STOP_TIMEOUT_S)
        self.process = None


class MariaDB(Child):
    """mariadbd on a unix socket only (no TCP), data in `root/mysql`. Stopping it is the
    outage: WordPress then answers 500."""

    STOP_TIMEOUT_S = 120.0

    def __init__(self, root: Path) -> None:
        self.datadir = root / "mysql"
        self.run = root / "mysqld"  # mysql-owned: socket, log, pid
        self.socket = self.run / "mysqld.sock"
        self.log = self.run / "mysqld.log"
        self.process: subprocess.Popen[bytes] | None = None

    def initialise(self) -> None:
        for path in (self.datadir, self.run):
            path.mkdir(parents=True)
            shutil.chown(path, "mysql", "mysql")
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
                        "--user=mysql", "--auth-root-authentication-method=socket",
                        "--skip-test-db"], check=True, capture_output=True)

    def start(self) -> None:
        if self.running:
            return
        self.process = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.datadir}",
             f"--socket={self.socket}", "--skip-networking", "--user=mysql",
             f"--log-error={self.log}", f"--pid-file={self.run / 'mysqld.pid'}",
             "--innodb-buffer-pool-size=32M", "--skip-log-bin", "--character-set-server=utf8mb4",
             "--innodb-flush-log-at-trx-commit=0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_for(self.ping, "MariaDB")

    def ping(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited; see {self.log}")
        return subprocess.run(["mariadb-admin", f"--socket={self.socket}", "ping"],
                              capture_output=True).returncode == 0

    def sql(self, statement: str, database: str = "") -> str:
        args = ["mariadb", f"--socket={self.socket}", "--batch", "--skip-column-names"]
        result = subprocess.run([*args, *([database] if database else []), "-e", statement],
                                check=True, capture_output=True, text=True)
        return result.stdout

    def dump(self, database: str, path: Path) -> None:
        with path.open("wb") as out:
            subprocess.run(["mysqldump", f"--socket={self.socket}", "--single-transaction",
                            database], check=True, stdout=out)

    def restore(self, database: str, path: Path) -> None:
        with path.open("rb") as dump:
            subprocess.run(["mariadb", f"--socket={self.socket}", database], check=True,
                           stdin=dump)


APACHE_CONF = """\
ServerRoot "/etc/apache2"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/apache.pid
Mutex file:{root}
ErrorLog {root}/apache-error.log
LogFormat "%h %t \\"%r\\" %>s %b" fonds
CustomLog {root}/apache-access.log fonds
User www-data
Group www-data
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule rewrite_module {modules}/mod_rewrite.so
LoadModule env_module {modules}/mod_env.so
LoadModule php_module {php}
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 8
TypesConfig /etc/mime.types
DirectoryIndex index.php index.html
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
<VirtualHost 127.0.0.1:{port}>
    DocumentRoot {wordpress}
    SetEnv WORDPRESS_CONFIG {config}
    Alias /wp-content {root}/wp-content
    <Directory />
        AllowOverride None
        Require all denied
    </Directory>
    <Directory {wordpress}>
        Options FollowSymLinks
        Require all granted
        # WordPress's own .htaccess rules for pretty permalinks (/%postname%/).
        RewriteEngine On
        RewriteBase /
        RewriteRule ^index\\.php$ - [L]
        RewriteCond %{{REQUEST_FILENAME}} !-f
        RewriteCond %{{REQUEST_FILENAME}} !-d
        RewriteRule . /index.php [L]
    </Directory>
    <Directory {root}/wp-content>
        Options FollowSymLinks
        Require all granted
    </Directory>
    <Directory {root}/wp-content/mu-plugins>
        Require all denied
    </Directory>
</VirtualHost>
"""


class Apache(Child):
    """apache2 -DFOREGROUND with its own config: 127.0.0.1:`port` only, WordPress at /."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.conf = root / "apache.conf"
        self.process: subprocess.Popen[bytes] | None = None

    def configure(self) -> None:
        php = next(MODULES.glob("libphp*.so"))
        self.conf.write_text(APACHE_CONF.format(port=self.port, root=self.root, php=php,
                                                modules=MODULES, wordpress=WORDPRESS,
                                                config=CONFIG_NAME), encoding="utf-8")

    def start(self) -> None:
        if port_in_use(self.port):
            raise RuntimeError(f"127.0.0.1:{self.port} is already taken by another process")
        self.process = subprocess.Popen(["/usr/sbin/apache2", "-f", str(self.conf),
                                         "-DFOREGROUND"], env=os.environ | {"LANG": "C"},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_for(self.answers, "Apache")

    def answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"apache2 exited; see {self.root / 'apache-error.log'}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readme.html", timeout=5)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True



def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
