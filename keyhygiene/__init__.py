"""KeyHygiene: know what every exchange API key can do, who has it, and rotate the ones you gave away."""

__version__ = "0.1.0"
APP_NAME = "KeyHygiene"
APP_ID = "io.github.keyhygiene.KeyHygiene"
