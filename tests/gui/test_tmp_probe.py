def test_x(make_window):
    from PySide6.QtWidgets import QAbstractButton
    w = make_window()
    for b in w.findChildren(QAbstractButton):
        if b.isVisibleTo(w) and not (b.accessibleName() or b.text()):
            print("BTN", b.objectName(), type(b).__name__, b.parent().objectName(), type(b.parent()).__name__, getattr(b,'defaultAction',lambda:None)())
