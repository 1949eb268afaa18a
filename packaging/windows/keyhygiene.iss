; Inno Setup script: installs the PyInstaller one-dir bundle per user (no admin rights needed).
; Build on Windows after `pyinstaller --noconfirm packaging\keyhygiene.spec`:
;   iscc packaging\windows\keyhygiene.iss
#define AppName "KeyHygiene"
#define AppVersion "0.1.0"
#define AppId "io.github.keyhygiene.KeyHygiene"

[Setup]
AppId={{8C3F2A4E-6B1D-4F7A-9E2C-5D8B1A3C7E90}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=KeyHygiene contributors
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=KeyHygiene-{#AppVersion}-setup
SetupIconFile=..\icons\keyhygiene.ico
UninstallDisplayIcon={app}\KeyHygiene.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "..\..\dist\KeyHygiene\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\KeyHygiene.exe"; AppUserModelID: "{#AppId}"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\KeyHygiene.exe"; Tasks: desktopicon; AppUserModelID: "{#AppId}"

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\KeyHygiene.exe"; Description: "Start KeyHygiene"; Flags: nowait postinstall skipifsilent
